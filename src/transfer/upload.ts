/** The upload of one object in one PUT (buffered or streamed), with what it carries besides its bytes. */
import type { ObjectHeaders } from '../core/object-headers.js';
import { lineageMetadata } from '../land/lineage.js';
import { coreObjectHeaders } from '../land/object-metadata.js';
import type { JournalObject } from '../ports/journal.js';
import type { LakeWrite, StreamBody } from '../ports/lake-store.js';
import type { ReplicateContext } from './context.js';
import { md5HexToBase64 } from './read-and-hash.js';

/**
 * What the core object of `job` carries: the edge's content headers and user metadata, as the
 * edge's GET answered them, and the lineage with the SHA-256 of its bytes. Throws the per-object
 * errors of land/object-metadata.ts (a name conflict, too much metadata) before anything is sent.
 */
export function landingHeaders(
  context: Pick<ReplicateContext, 'site'>,
  job: JournalObject,
  sha256Hex: string,
  edge: ObjectHeaders,
): ObjectHeaders {
  const lineage = lineageMetadata({
    site: context.site,
    bucket: job.bucket,
    key: job.key,
    etag: job.etag,
    mtimeMs: job.mtimeMs,
    sha256Hex,
    size: job.size,
  });
  return coreObjectHeaders(edge, lineage, job);
}

/** One PUT with Content-MD5 (the core checks the bytes against it); the answer is confirmed by confirm.ts. */
export async function uploadSingle(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  body: Buffer | StreamBody,
  md5Hex: string,
  landing: ObjectHeaders,
  signal: AbortSignal | undefined,
): Promise<LakeWrite> {
  const put = await context.lake.put(coreKey, body, {
    metadata: landing.metadata,
    content: landing.content,
    contentMd5: md5HexToBase64(md5Hex),
    signal,
  });
  context.onBytesSent?.(job.size);
  return put;
}
