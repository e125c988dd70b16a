/**
 * What hashing costs on this machine: CPU seconds per byte of SHA-256 and MD5 (node:crypto,
 * 64 MiB at a time), and from that the share of a Tributary run's CPU that hashing explains.
 */
import { createHash } from 'node:crypto';

import { pseudoRandomBytes, type TransferPath } from './datasets.js';

export interface HashCost {
  /** CPU seconds per byte (median of the timed repetitions). */
  readonly sha256PerByte: number;
  readonly md5PerByte: number;
  readonly bufferBytes: number;
  readonly repetitions: number;
}

function cpuSecondsOf(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

export function measureHashCost(repetitions = 5): HashCost {
  const bufferBytes = 64 * 1024 * 1024;
  const data = pseudoRandomBytes('hash-cost', 0, bufferBytes);
  // Tributary feeds its hashes the chunks of the HTTP response (tens of KiB each), not one buffer.
  const chunk = 64 * 1024;
  const perByte = (algorithm: 'sha256' | 'md5'): number => {
    const run = () => {
      const hash = createHash(algorithm);
      for (let offset = 0; offset < data.length; offset += chunk) hash.update(data.subarray(offset, offset + chunk));
      hash.digest();
    };
    run(); // warm-up
    return median(Array.from({ length: repetitions }, () => cpuSecondsOf(run))) / bufferBytes;
  };
  return { sha256PerByte: perByte('sha256'), md5PerByte: perByte('md5'), bufferBytes, repetitions };
}

export interface HashShare {
  readonly assumption: string;
  readonly sha256Passes: number;
  readonly md5Passes: number;
  readonly bytes: number;
  /** Estimated CPU seconds spent hashing. */
  readonly hashCpuS: number;
  /** hashCpuS / Tributary's CPU seconds. */
  readonly share: number;
}

/**
 * Estimated hashing CPU of one Tributary run, for edge objects whose ETag is a plain MD5 (as
 * s3rver's are), per ADR 0002 and its amendment. Buffered: SHA-256 once; the Content-MD5 is the
 * source ETag, so no MD5. Streamed: SHA-256 in the hashing pass and again over the body sent
 * (the two must agree). Multipart: the hashing pass with SHA-256, the whole MD5 (checked against
 * the source ETag) and the MD5 of each part, then MD5 per part read for Content-MD5.
 */
export function hashShare(cost: HashCost, path: TransferPath, bytes: number, tributaryCpuS: number): HashShare {
  const md5Passes = path === 'multipart' ? 3 : 0;
  const sha256Passes = path === 'streamed' ? 2 : 1;
  const hashCpuS = bytes * (sha256Passes * cost.sha256PerByte + md5Passes * cost.md5PerByte);
  return {
    assumption:
      path === 'multipart'
        ? 'each byte hashed with SHA-256 once and MD5 three times (hashing pass: SHA-256, MD5 against the source ETag, MD5 per part; each part read: MD5 for Content-MD5, checked against the pass)'
        : path === 'streamed'
          ? "each byte hashed with SHA-256 twice and no MD5 (streamed: the hashing pass, then the body sent, which must agree; the source's plain-MD5 ETag is the Content-MD5 the core checks)"
          : "each byte hashed with SHA-256 once and no MD5 (buffered: the source's plain-MD5 ETag is the Content-MD5 the core checks)",
    sha256Passes,
    md5Passes,
    bytes,
    hashCpuS,
    share: hashCpuS / tributaryCpuS,
  };
}
