/**
 * Confirming a landing: nothing counts as landed until the core's answer (a plain-MD5 ETag equal
 * to the MD5 sent) or a HEAD (size and our SHA-256, and an ETag that does not contradict) shows
 * our bytes. A wrong copy of ours found on the way is deleted (clean-up.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { TributaryError } from '../core/errors.js';
import type { JournalObject } from '../ports/journal.js';
import type { LakeHead, LakeWrite } from '../ports/lake-store.js';
import { META } from '../land/lineage.js';
import { deleteWrongCopy } from './clean-up.js';
import type { ReplicateContext, ReplicateResult } from './context.js';
import { etagContradicts, isOurs } from './core-copy.js';

/** How long a landing is waited for: this many HEADs, the wait after each twice the one before. */
export interface LandingPatience {
  readonly heads: number;
  readonly firstWaitMs: number;
}

/** Eight HEADs, 50 ms to 6.4 s apart: under 13 s of waiting before a short copy counts as wrong. */
export const LANDING_PATIENCE: LandingPatience = { heads: 8, firstWaitMs: 50 };

/**
 * HEAD until the core shows our object. Some servers acknowledge a write before a read can see
 * it whole, so a short object is re-read a few times before it counts as a mismatch.
 */
export async function confirmLanded(
  context: ReplicateContext,
  job: JournalObject,
  key: string,
  sha256Hex: string,
  md5Hex: string | undefined,
  signal: AbortSignal | undefined,
  patience: LandingPatience = LANDING_PATIENCE,
): Promise<{ etag: string | undefined }> {
  const { lake } = context;
  const size = job.size;
  let last: LakeHead | undefined;
  for (let attempt = 0; attempt < patience.heads; attempt += 1) {
    last = await lake.head(key, { signal });
    if (isOurs(last, size, sha256Hex, md5Hex)) return { etag: last?.etag };
    if (last !== undefined && (last.size > size || etagContradicts(last, md5Hex))) break;
    await sleep(patience.firstWaitMs * 2 ** attempt, undefined, signal ? { signal } : undefined);
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

function landedMismatch(coreKey: string, got: string, expected: string): TributaryError {
  return new TributaryError(
    'TRIB_ERR_LAND_MISMATCH',
    `core PUT ${coreKey}: the core computed MD5 ${got} for what it received, expected ${expected}`,
  );
}

/**
 * The answer to one PUT, confirmed by its ETag or, failing that, by HEAD. `checkSent` looks at
 * what was sent once the core has taken it (given the answer's ETag), before anything counts as
 * landed: an error from it deletes the copy and is thrown.
 */
export async function confirmPut(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  put: LakeWrite,
  md5Hex: string,
  sha256Hex: string,
  signal: AbortSignal | undefined,
  checkSent?: (answerEtag: string | undefined) => TributaryError | undefined,
): Promise<ReplicateResult> {
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
