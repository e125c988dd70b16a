/**
 * Replicates one journaled object version from the edge to the core. The caller (the runner)
 * maps whatever this throws to a journal state; this module only moves and checks bytes.
 *
 * Three paths, by size (docs/adr/0002-buffering-and-hashing.md):
 * - buffered (up to `bufferThreshold`): one GET into a buffer from the memory budget, hashed with
 *   SHA-256 on the way; one PUT.
 * - streamed (up to `multipartThreshold`): a hashing pass (SHA-256 must be in the metadata, which
 *   is sent before the body), then the GET body streams straight into the PUT. Nothing is held.
 * - multipart (above `multipartThreshold`): the hashing pass, then parts read with ranged GETs,
 *   each buffered, sent with its own Content-MD5 and journaled as soon as the core acknowledges
 *   it; after a crash the upload resumes at the first part the journal does not hold.
 *
 * Integrity: every read is conditional on the version's ETag and its length is checked. Single
 * PUTs carry Content-MD5: the source's own ETag when that is a plain MD5 (so the core checks the
 * bytes against what the edge says it holds), else the MD5 computed while reading. A PUT answered
 * with that MD5 as its ETag is confirmed; any other answer is confirmed by HEAD (size and the
 * SHA-256 in the metadata, and an MD5 ETag must not contradict). The answer of
 * CompleteMultipartUpload is never trusted: HEAD confirms. An object already in the core with our
 * SHA-256 and size (a retry after a lost answer) is not uploaded again, unless its ETag shows other
 * bytes: the metadata travels with the request, before the bytes are checked, so it proves nothing
 * alone. Where the edge is read twice (streamed, multipart), the second read must agree with the
 * hashing pass: the SHA-256 of the streamed body, the MD5 of each part.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { renderCoreKey } from '../core/core-key.js';
import { forEachConcurrently } from '../core/for-each-concurrently.js';
import { coerceError, TributaryError } from '../core/errors.js';
import type { JournalObject, Journal, LandedFacts } from '../ports/journal.js';
import type { LakeHead, LakeStore, StreamBody } from '../ports/lake-store.js';
import type { SourceStore } from '../ports/source-store.js';
import { lineageMetadata, META } from './lineage.js';
import type { WeightedSemaphore } from './weighted-semaphore.js';
import { hashWholeObject, isPlainMd5Etag, md5HexToBase64, readIntoBuffer, type Md5Wanted } from './read-source.js';

export interface ReplicateContext {
  readonly site: string;
  readonly keyTemplate: string;
  readonly source: SourceStore;
  readonly lake: LakeStore;
  readonly journal: Journal;
  /** Bytes of object data buffered at once (transfer.memoryLimit). */
  readonly budget: WeightedSemaphore;
  /** Hashing passes at once: few, so uploads of hashed objects overlap the passes of the next. */
  readonly hashPasses: WeightedSemaphore;
  readonly partSize: number;
  readonly bufferThreshold: number;
  readonly multipartThreshold: number;
  readonly partConcurrency: number;
  readonly headBeforePut: 'auto' | 'always' | 'never';
  /** Called with logical bytes as they are sent to the core (for progress and rates). */
  readonly onBytesSent?: (bytes: number) => void;
}

export interface ReplicateResult extends LandedFacts {
  /** True when the core already held identical content and nothing was uploaded. */
  readonly alreadyPresent: boolean;
}

const MAX_PARTS = 10_000;

export function coreKeyFor(
  context: Pick<ReplicateContext, 'site' | 'keyTemplate'>,
  job: Pick<JournalObject, 'bucket' | 'key' | 'mtimeMs'>,
): string {
  try {
    return renderCoreKey(context.keyTemplate, { site: context.site, bucket: job.bucket, key: job.key, mtime: new Date(job.mtimeMs) });
  } catch (error) {
    throw new TributaryError(
      'TRIB_ERR_KEY_UNMAPPABLE',
      `cannot build a core key for ${job.bucket}/${job.key}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** Part size that keeps the part count within the S3 limit of 10,000. */
export function effectivePartSize(objectSize: number, configured: number): number {
  const minimum = Math.ceil(objectSize / MAX_PARTS);
  return Math.max(configured, Math.ceil(minimum / (1024 * 1024)) * 1024 * 1024);
}

function shouldHead(context: ReplicateContext, job: JournalObject): boolean {
  if (context.headBeforePut === 'always') return true;
  if (context.headBeforePut === 'never') return false;
  return job.attempts > 0 || job.deferrals > 0 || job.lastErrorCode !== null;
}

function sourceCorrupt(job: JournalObject, md5Hex: string): TributaryError {
  return new TributaryError(
    'TRIB_ERR_SOURCE_CORRUPT',
    `edge GET ${job.bucket}/${job.key}: content MD5 ${md5Hex} does not match its ETag ${job.etag}`,
  );
}

/**
 * True when the core's ETag shows other bytes than `md5Hex`: a plain ETag derived from the MD5
 * (not SSE-KMS or SSE-C) that differs. Multipart and opaque ETags say nothing here.
 */
function etagContradicts(
  answer: { readonly etag: string | undefined; readonly etagFromMd5: boolean },
  md5Hex: string | undefined,
): boolean {
  if (md5Hex === undefined || answer.etag === undefined || !answer.etagFromMd5) return false;
  return isPlainMd5Etag(answer.etag) && answer.etag.toLowerCase() !== md5Hex;
}

/** The core copy is ours when its size and recorded SHA-256 match and its ETag does not say otherwise. */
function isOurs(head: LakeHead | undefined, size: number, sha256Hex: string, md5Hex: string | undefined): boolean {
  return head !== undefined && head.size === size && head.metadata[META.sha256] === sha256Hex && !etagContradicts(head, md5Hex);
}

/**
 * HEAD until the core shows our object. Some servers acknowledge a write before a read can see
 * it whole, so a short object is re-read a few times before it counts as a mismatch.
 */
async function confirmLanded(
  context: ReplicateContext,
  job: JournalObject,
  key: string,
  sha256Hex: string,
  md5Hex: string | undefined,
  signal: AbortSignal | undefined,
): Promise<{ etag: string | undefined }> {
  const { lake } = context;
  const size = job.size;
  let last: LakeHead | undefined;
  for (let attempt = 0; attempt < 8; attempt += 1) {
    last = await lake.head(key, { signal });
    if (isOurs(last, size, sha256Hex, md5Hex)) return { etag: last?.etag };
    if (last !== undefined && (last.size > size || etagContradicts(last, md5Hex))) break;
    await sleep(50 * 2 ** attempt, undefined, signal ? { signal } : undefined);
  }
  const mismatch = new TributaryError(
    'TRIB_ERR_LAND_MISMATCH',
    last === undefined
      ? `core ${key}: not found after upload`
      : `core ${key}: holds ${last.size} bytes with sha256 ${last.metadata[META.sha256] ?? 'none'} and ETag ${last.etag ?? 'none'}, expected ${size} bytes with sha256 ${sha256Hex}${md5Hex === undefined ? '' : ` and MD5 ${md5Hex}`}`,
  );
  // Our SHA-256 on other bytes: our own write went wrong, and its lineage vouches for it.
  if (last?.metadata[META.sha256] === sha256Hex) await deleteWrongCopy(context, job, key, signal);
  throw mismatch;
}

/**
 * Deletes a core copy this attempt wrote with wrong bytes: its lineage metadata names the version
 * and its SHA-256, so it must not stay in the lake, even if the object ends dead. The journal
 * marks the core key suspect first, in a commit of its own, and the mark stays until a version
 * lands at that key: after a failed DELETE, a crash, or a core whose reads lag its writes, no
 * attempt of any version takes a copy there for ours (see trustsCoreCopy).
 */
async function deleteWrongCopy(context: ReplicateContext, job: JournalObject, key: string, signal: AbortSignal | undefined): Promise<void> {
  context.journal.markCoreCopySuspect(job, key);
  await deleteMarkedCopy(context, key, signal);
}

/** The DELETE of a copy at a key already marked suspect; a failure leaves it listed in `status`. */
async function deleteMarkedCopy(context: ReplicateContext, key: string, signal: AbortSignal | undefined): Promise<void> {
  try {
    await context.lake.delete(key, { signal });
  } catch {
    return;
  }
  context.journal.markSuspectCopyDeleted(key);
}

/**
 * After a PUT of wrong bytes that failed, so that the core may or may not have stored them: the
 * key is marked suspect all the same, but the copy there is deleted only if it carries this
 * version's lineage. Anything else (the previous version's landed copy, say) is not ours to touch.
 */
async function deleteWrongCopyIfThere(
  context: ReplicateContext,
  job: JournalObject,
  key: string,
  sha256Hex: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  context.journal.markCoreCopySuspect(job, key);
  let head: LakeHead | undefined;
  try {
    head = await context.lake.head(key, { signal });
  } catch {
    return; // unknown: stays listed as a key that may hold a wrong copy
  }
  if (head === undefined || head.metadata[META.sha256] !== sha256Hex || head.metadata[META.sourceEtag] !== job.etag) {
    context.journal.markSuspectCopyDeleted(key); // no copy of this version there (reads may lag: the mark stays)
    return;
  }
  await deleteMarkedCopy(context, key, signal);
}

/**
 * Whether a core copy at `coreKey` with our SHA-256 and size may stand for this version: not while
 * an earlier attempt's wrong copy may be there (the metadata travels before the bytes are
 * checked, so a wrong copy carries it too). Then the object is sent again.
 */
function trustsCoreCopy(context: ReplicateContext, coreKey: string): boolean {
  return !context.journal.isCoreCopySuspect(coreKey);
}

async function hashPass(
  context: ReplicateContext,
  job: JournalObject,
  options: { md5: Md5Wanted; partSize?: number },
  signal: AbortSignal | undefined,
) {
  const release = await context.hashPasses.acquire(1, signal);
  try {
    return await hashWholeObject(context.source, job, { ...options, signal });
  } finally {
    release();
  }
}

function landedMismatch(coreKey: string, got: string, expected: string): TributaryError {
  return new TributaryError(
    'TRIB_ERR_LAND_MISMATCH',
    `core PUT ${coreKey}: the core computed MD5 ${got} for what it received, expected ${expected}`,
  );
}

/**
 * One PUT of a buffer or a stream, confirmed by its ETag or, failing that, by HEAD. `checkSent`
 * looks at what was sent once the core has taken it (given the answer's ETag), before anything
 * counts as landed: an error from it deletes the copy and is thrown.
 */
async function putAndConfirm(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  body: Buffer | StreamBody,
  md5Hex: string,
  sha256Hex: string,
  signal: AbortSignal | undefined,
  checkSent?: (answerEtag: string | undefined) => TributaryError | undefined,
): Promise<ReplicateResult> {
  const metadata = lineageMetadata({
    site: context.site,
    bucket: job.bucket,
    key: job.key,
    etag: job.etag,
    mtimeMs: job.mtimeMs,
    sha256Hex,
    size: job.size,
  });
  const put = await context.lake.put(coreKey, body, { metadata, contentMd5: md5HexToBase64(md5Hex), signal });
  context.onBytesSent?.(job.size);
  const etag = put.etag?.toLowerCase();
  const wrongSent = checkSent?.(etag);
  if (wrongSent !== undefined) {
    await deleteWrongCopy(context, job, coreKey, signal);
    throw wrongSent;
  }
  if (etag === md5Hex) return { coreKey, sha256: sha256Hex, coreEtag: put.etag ?? null, coreSize: job.size, alreadyPresent: false };
  // A plain-MD5 ETag that differs means the core got other bytes (a server that ignores Content-MD5).
  // That wrong copy is our own write, with a lineage that vouches for it: it must not stay.
  if (etag !== undefined && etagContradicts(put, md5Hex)) {
    await deleteWrongCopy(context, job, coreKey, signal);
    throw landedMismatch(coreKey, etag, md5Hex);
  }
  const confirmed = await confirmLanded(context, job, coreKey, sha256Hex, md5Hex, signal);
  return { coreKey, sha256: sha256Hex, coreEtag: confirmed.etag ?? null, coreSize: job.size, alreadyPresent: false };
}

async function alreadyInCore(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  sha256Hex: string,
  md5Hex: string | undefined,
  signal: AbortSignal | undefined,
): Promise<ReplicateResult | undefined> {
  if (!shouldHead(context, job) || !trustsCoreCopy(context, coreKey)) return undefined;
  const head = await context.lake.head(coreKey, { signal });
  if (!isOurs(head, job.size, sha256Hex, md5Hex)) return undefined;
  return { coreKey, sha256: sha256Hex, coreEtag: head?.etag ?? null, coreSize: job.size, alreadyPresent: true };
}

/** The MD5 the core checks: the source's plain ETag, unless the edge said it is opaque (SSE-KMS, SSE-C). */
function wantMd5(job: JournalObject): Md5Wanted {
  const plain = isPlainMd5Etag(job.etag);
  return (read) => !(plain && read.etagFromMd5);
}

async function replicateBuffered(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  signal: AbortSignal | undefined,
): Promise<ReplicateResult> {
  const release = await context.budget.acquire(job.size, signal);
  try {
    const read = await readIntoBuffer(context.source, job, undefined, { sha256: true, md5: wantMd5(job), signal });
    const md5Hex = read.md5 === undefined ? job.etag.toLowerCase() : read.md5.toString('hex');
    const sha256Hex = read.sha256!.toString('hex');
    const present = await alreadyInCore(context, job, coreKey, sha256Hex, md5Hex, signal);
    if (present) return present;
    // With the source's ETag as Content-MD5, the MD5 of what was read is computed only when an
    // answer leaves it open whether those bytes were right, and then once.
    let readMd5: string | undefined;
    const md5OfRead = () => (readMd5 ??= createHash('md5').update(read.data).digest('hex'));
    // The core's ETag did not show the bytes matching the source's (opaque under SSE-KMS or
    // SSE-C, or none): check what was read against it here, before the copy counts.
    const checkRead = (answerEtag: string | undefined): TributaryError | undefined => {
      if (read.md5 !== undefined || answerEtag === md5Hex) return undefined;
      return md5OfRead() === md5Hex ? undefined : sourceCorrupt(job, md5OfRead());
    };
    try {
      return await putAndConfirm(context, job, coreKey, read.data, md5Hex, sha256Hex, signal, checkRead);
    } catch (error) {
      // The core refused bytes checked against the source's ETag: were they wrong as read from the
      // edge, or on the way to the core?
      if (read.md5 === undefined && coerceError(error).code === 'TRIB_ERR_LAND_MISMATCH' && md5OfRead() !== md5Hex) {
        throw sourceCorrupt(job, md5OfRead());
      }
      throw error;
    }
  } finally {
    release();
  }
}

async function replicateStreamed(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  signal: AbortSignal | undefined,
): Promise<ReplicateResult> {
  const hashes = await hashPass(context, job, { md5: wantMd5(job) }, signal);
  const md5Hex = hashes.md5 === undefined ? job.etag.toLowerCase() : hashes.md5.toString('hex');
  const sha256Hex = hashes.sha256.toString('hex');
  const present = await alreadyInCore(context, job, coreKey, sha256Hex, md5Hex, signal);
  if (present) return present;
  const read = await context.source.read(job, undefined, { signal });
  // The metadata carries the hashing pass's SHA-256: the bytes sent are hashed too, and must agree.
  const sent = createHash('sha256');
  let sentBytes = 0;
  let sentHex: string | undefined;
  const sentDigest = () => (sentHex ??= sent.digest('hex'));
  const readsDiffer = (what: string) =>
    new TributaryError(
      'TRIB_ERR_SOURCE_CORRUPT',
      `edge GET ${job.bucket}/${job.key}: two reads of one version differ (SHA-256 ${sha256Hex}, then ${sentDigest()}); ${what}`,
    );
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent.update(chunk);
      sentBytes += chunk.length;
      done(null, chunk);
    },
  });
  // A failure of the edge read surfaces as a failed PUT: report it as the edge's.
  let readError: unknown;
  read.body.once('error', (error) => {
    readError = error;
    hashing.destroy(error);
  });
  read.body.pipe(hashing);
  const checkSent = () => (sentDigest() === sha256Hex ? undefined : readsDiffer('the core copy was deleted'));
  try {
    return await putAndConfirm(context, job, coreKey, { stream: hashing, length: job.size }, md5Hex, sha256Hex, signal, checkSent);
  } catch (error) {
    if (readError !== undefined) {
      throw new TributaryError(
        'TRIB_ERR_EDGE_BAD_RESPONSE',
        `edge GET ${job.bucket}/${job.key}: the read broke off: ${(readError as Error).message}`,
        {
          cause: readError,
        },
      );
    }
    // The whole body went out, and it is not what the hashing pass read: the edge's fault. Unless
    // the core refused it (its Content-MD5), it may hold it under our SHA-256 (the answer lost,
    // say): that copy goes, and its key stays suspect.
    if (
      sentBytes === job.size &&
      !(error instanceof TributaryError && error.code === 'TRIB_ERR_SOURCE_CORRUPT') &&
      sentDigest() !== sha256Hex
    ) {
      if (coerceError(error).code === 'TRIB_ERR_LAND_MISMATCH') throw readsDiffer('the core refused them');
      await deleteWrongCopyIfThere(context, job, coreKey, sha256Hex, signal);
      throw readsDiffer('a copy of them the core holds is deleted, and its key marked suspect');
    }
    throw error;
  } finally {
    read.body.destroy();
    hashing.destroy();
  }
}

async function replicateMultipart(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  signal: AbortSignal | undefined,
): Promise<ReplicateResult> {
  const { journal, lake } = context;
  let progress = journal.multipart(job.id);
  if (progress !== undefined && progress.coreKey !== coreKey) {
    await lake.abortMultipart(progress.coreKey, progress.uploadId);
    journal.forgetMultipart(job.id);
    progress = undefined;
  }
  if (progress === undefined) {
    const partSize = effectivePartSize(job.size, context.partSize);
    // The whole MD5 only where there is something to check it against: a plain, not opaque, ETag.
    const plain = isPlainMd5Etag(job.etag);
    const hashes = await hashPass(context, job, { md5: (read) => plain && read.etagFromMd5, partSize }, signal);
    const sha256Hex = hashes.sha256.toString('hex');
    const md5Hex = hashes.md5?.toString('hex');
    if (md5Hex !== undefined && md5Hex !== job.etag.toLowerCase()) throw sourceCorrupt(job, md5Hex);
    const present = await alreadyInCore(context, job, coreKey, sha256Hex, md5Hex, signal);
    if (present) return present;
    const metadata = lineageMetadata({
      site: context.site,
      bucket: job.bucket,
      key: job.key,
      etag: job.etag,
      mtimeMs: job.mtimeMs,
      sha256Hex,
      size: job.size,
    });
    const uploadId = await lake.createMultipart(coreKey, { metadata, signal });
    journal.startMultipart(job.id, { uploadId, coreKey, partSize, sha256: sha256Hex, partMd5s: hashes.partMd5s });
    progress = journal.multipart(job.id)!;
  }

  const { uploadId, partSize, sha256: sha256Hex, partMd5s } = progress;
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

  const parts = [...done.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, part]) => ({ partNumber, etag: part.etag }));
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

/**
 * An object an event announced carries the event's time, not its Last-Modified, which the core
 * key's date tokens and the lineage need: one HEAD at the edge settles it (and notices an object
 * already overwritten or deleted).
 */
async function withExactMtime(context: ReplicateContext, job: JournalObject, signal: AbortSignal | undefined): Promise<JournalObject> {
  if (job.mtimeExact) return job;
  const current = await context.source.head(job, { signal });
  if (current.etag !== job.etag || current.size !== job.size) {
    throw new TributaryError(
      'TRIB_ERR_SOURCE_CHANGED',
      `edge HEAD ${job.bucket}/${job.key}: the object changed since its event (ETag ${current.etag})`,
    );
  }
  if (!context.journal.setExactMtime(job.id, current.mtime.getTime())) {
    throw new TributaryError(
      'TRIB_ERR_SOURCE_CHANGED',
      `edge ${job.bucket}/${job.key}: a newer sighting of this version is journaled; this row is superseded by it`,
    );
  }
  return { ...job, mtimeMs: current.mtime.getTime(), mtimeExact: true };
}

export async function replicateObject(context: ReplicateContext, announced: JournalObject, signal?: AbortSignal): Promise<ReplicateResult> {
  const job = await withExactMtime(context, announced, signal);
  const coreKey = coreKeyFor(context, job);
  if (job.size > context.multipartThreshold) return replicateMultipart(context, job, coreKey, signal);
  if (job.size > context.bufferThreshold) return replicateStreamed(context, job, coreKey, signal);
  return replicateBuffered(context, job, coreKey, signal);
}
