/**
 * Reading from the edge with integrity checks. Two ways: into a Buffer of known length (a small
 * object whole, or one part of a large one), or as a hashing pass that keeps nothing. Both compute
 * the hashes asked for while the bytes stream past, and both refuse a body of the wrong length.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';

import { TributaryError } from '../core/errors.js';
import type { SourceObject, SourceStore } from '../ports/source-store.js';

export interface BufferedRead {
  readonly data: Buffer;
  readonly md5: Buffer | undefined;
  readonly sha256: Buffer | undefined;
}

const PLAIN_MD5 = /^[0-9a-f]{32}$/i;

/** True when the ETag is the MD5 of the content (single PUT, no SSE-KMS): then we can check it. */
export function isPlainMd5Etag(etag: string): boolean {
  return PLAIN_MD5.test(etag);
}

function wrongLength(object: Pick<SourceObject, 'bucket' | 'key'>, got: number, expected: number): TributaryError {
  return new TributaryError(
    'TRIB_ERR_EDGE_BAD_RESPONSE',
    `edge GET ${object.bucket}/${object.key}: body of ${got} bytes, expected ${expected}`,
  );
}

async function drain(body: Readable, onChunk: (chunk: Buffer) => void, signal: AbortSignal | undefined): Promise<void> {
  try {
    for await (const chunk of body) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
      onChunk(chunk as Buffer);
    }
  } finally {
    body.destroy();
  }
}

/** Reads `range` (or the whole object) into one Buffer, hashing it with MD5 and/or SHA-256 as asked. */
export async function readIntoBuffer(
  source: SourceStore,
  object: Pick<SourceObject, 'bucket' | 'key' | 'etag' | 'size'>,
  range: { readonly start: number; readonly end: number } | undefined,
  options: { readonly sha256: boolean; readonly md5: boolean; readonly signal?: AbortSignal | undefined },
): Promise<BufferedRead> {
  const expected = range === undefined ? object.size : range.end - range.start + 1;
  if (expected === 0) {
    return {
      data: Buffer.alloc(0),
      md5: options.md5 ? createHash('md5').digest() : undefined,
      sha256: options.sha256 ? createHash('sha256').digest() : undefined,
    };
  }
  const read = await source.read(object, range, { signal: options.signal });
  const data = Buffer.allocUnsafe(expected);
  const md5 = options.md5 ? createHash('md5') : undefined;
  const sha = options.sha256 ? createHash('sha256') : undefined;
  let offset = 0;
  await drain(
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
  return { data, md5: md5?.digest(), sha256: sha?.digest() };
}

/** Streams the whole object once to compute its SHA-256 (and MD5 when `md5` is asked for). */
export async function hashWholeObject(
  source: SourceStore,
  object: Pick<SourceObject, 'bucket' | 'key' | 'etag' | 'size'>,
  options: { readonly md5: boolean; readonly signal?: AbortSignal | undefined; readonly onBytes?: (n: number) => void },
): Promise<{ readonly sha256: Buffer; readonly md5: Buffer | undefined }> {
  const sha = createHash('sha256');
  const md5: Hash | undefined = options.md5 ? createHash('md5') : undefined;
  let total = 0;
  if (object.size > 0) {
    const read = await source.read(object, undefined, { signal: options.signal });
    await drain(
      read.body,
      (chunk) => {
        total += chunk.length;
        if (total > object.size) throw wrongLength(object, total, object.size);
        sha.update(chunk);
        md5?.update(chunk);
      },
      options.signal,
    );
  }
  if (total !== object.size) throw wrongLength(object, total, object.size);
  return { sha256: sha.digest(), md5: md5?.digest() };
}

/** Content-MD5 (base64) from an MD5 in hex, such as a plain ETag. */
export function md5HexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}
