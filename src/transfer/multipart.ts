/**
 * The stages of a multipart upload: start (or resume from the journal) after the hashing pass,
 * upload the parts the journal does not hold, complete, and confirm by HEAD. Every acknowledged
 * part is journaled at once, so a crash resumes at the next part.
 */
import { TributaryError } from '../core/errors.js';
import { forEachConcurrently } from '../core/for-each-concurrently.js';
import type { JournalObject, MultipartProgress } from '../ports/journal.js';
import { confirmLanded } from './confirm.js';
import type { ReplicateContext, ReplicateResult } from './context.js';
import { etagContradicts, isOurs } from './core-copy.js';
import { alreadyInCore, trustsCoreCopy } from './decide.js';
import { effectivePartSize } from './plan.js';
import { hashPass, isPlainMd5Etag, readIntoBuffer, sourceCorrupt } from './read-and-hash.js';
import { landingHeaders } from './upload.js';

/**
 * The upload to continue: the journaled one for this core key, or a new one after a hashing pass
 * (the SHA-256 is in the metadata given at creation). A landing when the core holds it already.
 */
export async function startOrResume(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  signal: AbortSignal | undefined,
): Promise<MultipartProgress | ReplicateResult> {
  const { journal, lake } = context;
  const progress = journal.multipart(job.id);
  if (progress !== undefined && progress.coreKey === coreKey) return progress;
  if (progress !== undefined) {
    await lake.abortMultipart(progress.coreKey, progress.uploadId);
    journal.forgetMultipart(job.id);
  }
  const partSize = effectivePartSize(job.size, context.partSize);
  // The whole MD5 only where there is something to check it against: a plain, not opaque, ETag.
  const plain = isPlainMd5Etag(job.etag);
  const hashes = await hashPass(context, job, { md5: (read) => plain && read.etagFromMd5, partSize }, signal);
  const sha256Hex = hashes.sha256.toString('hex');
  const md5Hex = hashes.md5?.toString('hex');
  if (md5Hex !== undefined && md5Hex !== job.etag.toLowerCase()) throw sourceCorrupt(job, md5Hex);
  // The headers go with the creation: a resumed upload needs nothing more from the edge.
  const landing = landingHeaders(context, job, sha256Hex, hashes.headers);
  const present = await alreadyInCore(context, job, coreKey, sha256Hex, md5Hex, landing, signal);
  if (present) return present;
  const uploadId = await lake.createMultipart(coreKey, { metadata: landing.metadata, content: landing.content, signal });
  journal.startMultipart(job.id, { uploadId, coreKey, partSize, sha256: sha256Hex, partMd5s: hashes.partMd5s });
  return journal.multipart(job.id)!;
}

/** Uploads every part the journal does not hold yet; returns all parts in order. */
export async function uploadParts(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  progress: MultipartProgress,
  signal: AbortSignal | undefined,
): Promise<{ partNumber: number; etag: string }[]> {
  const { journal, lake } = context;
  const { uploadId, partSize, partMd5s } = progress;
  const partCount = Math.max(1, Math.ceil(job.size / partSize));
  const done = new Map(progress.parts);
  const pending: number[] = [];
  for (let n = 1; n <= partCount; n += 1) if (!done.has(n)) pending.push(n);

  const uploadOne = async (partNumber: number): Promise<void> => {
    const start = (partNumber - 1) * partSize;
    const end = Math.min(job.size, start + partSize) - 1;
    const release = await context.budget.acquire(end - start + 1, signal);
    try {
      const read = await readIntoBuffer(context.source, job, { start, end }, { sha256: false, md5: true, signal });
      const md5Hex = read.md5!.toString('hex');
      const expected = partMd5s?.subarray(16 * (partNumber - 1), 16 * partNumber);
      if (expected !== undefined && expected.length === 16 && !expected.equals(read.md5!)) {
        throw new TributaryError(
          'TRIB_ERR_SOURCE_CORRUPT',
          `edge GET ${job.bucket}/${job.key} part ${partNumber} (bytes ${start}-${end}): MD5 ${md5Hex}, but the hashing pass read ${expected.toString('hex')}; the upload starts over`,
        );
      }
      const part = await lake.uploadPart(coreKey, uploadId, partNumber, read.data, { contentMd5: read.md5!.toString('base64'), signal });
      const { etag } = part;
      if (etagContradicts(part, md5Hex)) {
        throw new TributaryError('TRIB_ERR_LAND_MISMATCH', `core UploadPart ${coreKey} #${partNumber}: ETag ${etag}, sent MD5 ${md5Hex}`);
      }
      journal.recordPart(job.id, partNumber, etag, read.data.length);
      done.set(partNumber, { etag, size: read.data.length });
      context.onBytesSent?.(read.data.length);
    } finally {
      release();
    }
  };

  // A few parts of one object in flight at once; the first failure stops taking new parts, and
  // every started part settles before the error propagates (nothing keeps running behind us).
  try {
    await forEachConcurrently(pending, context.partConcurrency, uploadOne);
  } catch (failure) {
    const code = (failure as { code?: string }).code;
    if (code === 'TRIB_ERR_CORE_UPLOAD_LOST') journal.forgetMultipart(job.id);
    // Two reads of the edge disagree: which one was wrong is not known, so neither the hashing
    // pass (in the metadata) nor the parts sent are kept.
    if (code === 'TRIB_ERR_SOURCE_CORRUPT') {
      await lake.abortMultipart(coreKey, uploadId);
      journal.forgetMultipart(job.id);
    }
    throw failure;
  }
  return [...done.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, part]) => ({ partNumber, etag: part.etag }));
}

/**
 * Completes the upload and confirms the object by HEAD: the answer of CompleteMultipartUpload is
 * never trusted, and a lost answer is looked for before the attempt fails.
 */
export async function completeAndConfirm(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  progress: MultipartProgress,
  parts: readonly { partNumber: number; etag: string }[],
  signal: AbortSignal | undefined,
): Promise<ReplicateResult> {
  const { journal, lake } = context;
  const { uploadId, sha256: sha256Hex } = progress;
  try {
    await lake.completeMultipart(coreKey, uploadId, parts, { signal });
  } catch (error) {
    // The answer may have been lost after the core assembled the object: look before failing.
    const head = trustsCoreCopy(context, coreKey) ? await lake.head(coreKey, { signal }).catch(() => undefined) : undefined;
    if (!isOurs(head, job.size, sha256Hex, undefined)) {
      // A mismatch, or an upload the core no longer knows (aborted by a lifecycle rule, say):
      // the next attempt starts a new upload instead of completing this one again and again.
      const code = (error as { code?: string }).code;
      if (code === 'TRIB_ERR_LAND_MISMATCH' || code === 'TRIB_ERR_CORE_UPLOAD_LOST') journal.forgetMultipart(job.id);
      throw error;
    }
  }
  let confirmed;
  try {
    confirmed = await confirmLanded(context, job, coreKey, sha256Hex, undefined, signal);
  } catch (error) {
    journal.forgetMultipart(job.id);
    throw error;
  }
  return { coreKey, sha256: sha256Hex, coreEtag: confirmed.etag ?? null, coreSize: job.size, alreadyPresent: false };
}
