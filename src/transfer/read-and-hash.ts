/**
 * Reading from the edge with integrity checks. Two ways: into a Buffer of known length (a small
 * object whole, or one part of a large one), or as a hashing pass that keeps nothing. Both compute
 * the hashes asked for while the bytes stream past, and both refuse a body of the wrong length.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';

import { TributaryError } from '../core/errors.js';
import type { ObjectHeaders } from '../core/object-headers.js';
import type { JournalObject } from '../ports/journal.js';
import type { SourceObject, SourceRead, SourceStore } from '../ports/source-store.js';
import type { ReplicateContext } from './context.js';

export interface BufferedRead {
  readonly data: Buffer;
  readonly md5: Buffer | undefined;
  readonly sha256: Buffer | undefined;
  /** From the edge's answer: false when the object's ETag is opaque (SSE-KMS, SSE-C). */
  readonly etagFromMd5: boolean;
  /** From the edge's answer: the object's content headers and user metadata. */
  readonly headers: ObjectHeaders;
}

/** Whether to compute the MD5: fixed, or decided from the edge's answer (its encryption) before the body. */
export type Md5Wanted = boolean | ((read: SourceRead) => boolean);

function md5For(wanted: Md5Wanted, read: SourceRead): Hash | undefined {
  return (typeof wanted === 'function' ? wanted(read) : wanted) ? createHash('md5') : undefined;
}

const PLAIN_MD5 = /^[0-9a-f]{32}$/i;

/** True when the ETag has the shape of the content's MD5 (single PUT, no SSE-KMS): then we can check it. */
export function isPlainMd5Etag(etag: string): boolean {
  return PLAIN_MD5.test(etag);
}

function wrongLength(object: Pick<SourceObject, 'bucket' | 'key'>, got: number, expected: number): TributaryError {
  return new TributaryError(
    'TRIB_ERR_EDGE_BAD_RESPONSE',
    `edge GET ${object.bucket}/${object.key}: body of ${got} bytes, expected ${expected}`,
  );
}

/**
 * Feeds every chunk of `body` to `onChunk`. A body that breaks off (a reset, a close before its
 * Content-Length, a stall past the timeout) is the edge's bad answer, named with the object; a
 * cancellation stays a cancellation.
 */
async function drain(
  object: Pick<SourceObject, 'bucket' | 'key'>,
  body: Readable,
  onChunk: (chunk: Buffer) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  let received = 0;
  try {
    for await (const chunk of body) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
      received += (chunk as Buffer).length;
      onChunk(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof TributaryError || signal?.aborted || (error as { name?: string }).name === 'AbortError') throw error;
    throw new TributaryError(
      'TRIB_ERR_EDGE_BAD_RESPONSE',
      `edge GET ${object.bucket}/${object.key}: the read broke off after ${received} bytes: ${(error as Error).message ?? String(error)}`,
      { cause: error },
    );
  } finally {
    body.destroy();
  }
}

/**
 * Reads `range` (or the whole object) into one Buffer, hashing it with MD5 and/or SHA-256 as asked.
 * An empty object is read too: a listing that says 0 bytes is checked against what the edge sends.
 */
export async function readIntoBuffer(
  source: SourceStore,
  object: Pick<SourceObject, 'bucket' | 'key' | 'etag' | 'size'>,
  range: { readonly start: number; readonly end: number } | undefined,
  options: { readonly sha256: boolean; readonly md5: Md5Wanted; readonly signal?: AbortSignal | undefined },
): Promise<BufferedRead> {
  const expected = range === undefined ? object.size : range.end - range.start + 1;
  const read = await source.read(object, range, { signal: options.signal });
  const data = Buffer.allocUnsafe(expected);
  const md5 = md5For(options.md5, read);
  const sha = options.sha256 ? createHash('sha256') : undefined;
  let offset = 0;
  await drain(
    object,
    read.body,
    (chunk) => {
      if (offset + chunk.length > expected) throw wrongLength(object, offset + chunk.length, expected);
      chunk.copy(data, offset);
      offset += chunk.length;
      md5?.update(chunk);
      sha?.update(chunk);
    },
    options.signal,
  );
  if (offset !== expected) throw wrongLength(object, offset, expected);
  return { data, md5: md5?.digest(), sha256: sha?.digest(), etagFromMd5: read.etagFromMd5, headers: read.headers };
}

export interface WholeObjectHashes {
  readonly sha256: Buffer;
  readonly md5: Buffer | undefined;
  /** The MD5 of every `partSize` slice, 16 bytes each in order, when a part size was given. */
  readonly partMd5s: Buffer | undefined;
  readonly etagFromMd5: boolean;
  /** The object's content headers and user metadata, from the pass's GET. */
  readonly headers: ObjectHeaders;
}

/**
 * Streams the whole object once to compute its SHA-256, the MD5 when asked for, and the MD5 of
 * each part when `partSize` is given (the parts read later are checked against them).
 */
export async function hashWholeObject(
  source: SourceStore,
  object: Pick<SourceObject, 'bucket' | 'key' | 'etag' | 'size'>,
  options: { readonly md5: Md5Wanted; readonly partSize?: number; readonly signal?: AbortSignal | undefined },
): Promise<WholeObjectHashes> {
  const sha = createHash('sha256');
  const { partSize } = options;
  const partMd5s = partSize === undefined ? undefined : Buffer.alloc(16 * Math.max(1, Math.ceil(object.size / partSize)));
  let part = createHash('md5');
  let partIndex = 0;
  let inPart = 0;
  const endPart = () => {
    part.digest().copy(partMd5s!, 16 * partIndex);
    partIndex += 1;
    inPart = 0;
    part = createHash('md5');
  };
  let total = 0;
  const read = await source.read(object, undefined, { signal: options.signal });
  const md5 = md5For(options.md5, read);
  await drain(
    object,
    read.body,
    (chunk) => {
      total += chunk.length;
      if (total > object.size) throw wrongLength(object, total, object.size);
      sha.update(chunk);
      md5?.update(chunk);
      if (partSize === undefined) return;
      let rest = chunk;
      while (rest.length > 0) {
        const take = Math.min(rest.length, partSize - inPart);
        part.update(take === rest.length ? rest : rest.subarray(0, take));
        inPart += take;
        rest = rest.subarray(take);
        if (inPart === partSize) endPart();
      }
    },
    options.signal,
  );
  if (total !== object.size) throw wrongLength(object, total, object.size);
  if (partSize !== undefined && (inPart > 0 || partIndex === 0)) endPart();
  return { sha256: sha.digest(), md5: md5?.digest(), partMd5s, etagFromMd5: read.etagFromMd5, headers: read.headers };
}

/** Content-MD5 (base64) from an MD5 in hex, such as a plain ETag. */
export function md5HexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/** A hashing pass over the whole object, one of a few at once (ReplicateContext.hashPasses). */
export async function hashPass(
  context: Pick<ReplicateContext, 'hashPasses' | 'source'>,
  job: JournalObject,
  options: { md5: Md5Wanted; partSize?: number },
  signal: AbortSignal | undefined,
): Promise<WholeObjectHashes> {
  const release = await context.hashPasses.acquire(1, signal);
  try {
    return await hashWholeObject(context.source, job, { ...options, signal });
  } finally {
    release();
  }
}

/** The bytes read do not match the edge's own ETag (a plain MD5). */
export function sourceCorrupt(job: Pick<JournalObject, 'bucket' | 'key' | 'etag'>, md5Hex: string): TributaryError {
  return new TributaryError(
    'TRIB_ERR_SOURCE_CORRUPT',
    `edge GET ${job.bucket}/${job.key}: content MD5 ${md5Hex} does not match its ETag ${job.etag}`,
  );
}
