/**
 * Replicates one journaled object version from the edge to the core. The caller (the runner)
 * maps whatever this throws to a journal state; this module only moves and checks bytes. It reads
 * as the stages of a transfer, each in its own module: plan (plan.ts), read and hash
 * (read-and-hash.ts), decide (decide.ts), upload (upload.ts, multipart.ts), confirm (confirm.ts),
 * clean up (clean-up.ts).
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
 *
 * Headers: the core object carries the edge object's content headers and user metadata, taken
 * from the first GET's answer (the buffered read, the hashing pass), with the lineage beside them
 * (upload.ts, land/object-metadata.ts). What cannot land that way fails before anything is sent.
 * A copy already in the core stands for this version only with the same headers.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

import { coerceError, TributaryError } from '../core/errors.js';
import type { JournalObject } from '../ports/journal.js';
import { deleteWrongCopyIfThere } from './clean-up.js';
import { confirmPut } from './confirm.js';
import type { ReplicateContext, ReplicateResult } from './context.js';
import { alreadyInCore, wantMd5 } from './decide.js';
import { completeAndConfirm, startOrResume, uploadParts } from './multipart.js';
import { planTransfer } from './plan.js';
import { hashPass, readIntoBuffer, sourceCorrupt } from './read-and-hash.js';
import { landingHeaders, uploadSingle } from './upload.js';

export type { ReplicateContext, ReplicateResult } from './context.js';

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
    const landing = landingHeaders(context, job, sha256Hex, read.headers);
    const present = await alreadyInCore(context, job, coreKey, sha256Hex, md5Hex, landing, signal);
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
      const put = await uploadSingle(context, job, coreKey, read.data, md5Hex, landing, signal);
      return await confirmPut(context, job, coreKey, put, md5Hex, sha256Hex, signal, checkRead);
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
  const landing = landingHeaders(context, job, sha256Hex, hashes.headers);
  const present = await alreadyInCore(context, job, coreKey, sha256Hex, md5Hex, landing, signal);
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
    const put = await uploadSingle(context, job, coreKey, { stream: hashing, length: job.size }, md5Hex, landing, signal);
    return await confirmPut(context, job, coreKey, put, md5Hex, sha256Hex, signal, checkSent);
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
  const upload = await startOrResume(context, job, coreKey, signal);
  if (!('uploadId' in upload)) return upload;
  const parts = await uploadParts(context, job, coreKey, upload, signal);
  return completeAndConfirm(context, job, coreKey, upload, parts, signal);
}

export async function replicateObject(context: ReplicateContext, announced: JournalObject, signal?: AbortSignal): Promise<ReplicateResult> {
  const { job, coreKey, path } = await planTransfer(context, announced, signal);
  switch (path) {
    case 'multipart':
      return replicateMultipart(context, job, coreKey, signal);
    case 'streamed':
      return replicateStreamed(context, job, coreKey, signal);
    case 'buffered':
      return replicateBuffered(context, job, coreKey, signal);
  }
}
