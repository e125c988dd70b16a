/** The upload of one object in one PUT (buffered or streamed), with the lineage it lands with. */
import { lineageMetadata } from '../land/lineage.js';
import type { JournalObject } from '../ports/journal.js';
import type { LakeWrite, StreamBody } from '../ports/lake-store.js';
import type { ReplicateContext } from './context.js';
import { md5HexToBase64 } from './read-and-hash.js';

/** The metadata a core object of `job` carries: its lineage, with the SHA-256 of its bytes. */
export function landingMetadata(context: Pick<ReplicateContext, 'site'>, job: JournalObject, sha256Hex: string): Record<string, string> {
  return lineageMetadata({
    site: context.site,
    bucket: job.bucket,
    key: job.key,
    etag: job.etag,
    mtimeMs: job.mtimeMs,
    sha256Hex,
    size: job.size,
  });
}

/** One PUT with Content-MD5 (the core checks the bytes against it); the answer is confirmed by confirm.ts. */
export async function uploadSingle(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  body: Buffer | StreamBody,
  md5Hex: string,
  sha256Hex: string,
  signal: AbortSignal | undefined,
): Promise<LakeWrite> {
  const put = await context.lake.put(coreKey, body, {
    metadata: landingMetadata(context, job, sha256Hex),
    contentMd5: md5HexToBase64(md5Hex),
    signal,
  });
  context.onBytesSent?.(job.size);
  return put;
}
