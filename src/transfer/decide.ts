/**
 * Decisions before anything is uploaded: whether to look in the core first (a retry may find its
 * copy already there), whether a copy found there may stand for this version, and which MD5 the
 * core is asked to check.
 */
import type { ObjectHeaders } from '../core/object-headers.js';
import type { JournalObject } from '../ports/journal.js';
import type { ReplicateContext, ReplicateResult } from './context.js';
import { isOurs } from './core-copy.js';
import { isPlainMd5Etag, type Md5Wanted } from './read-and-hash.js';

/**
 * transfer.headBeforePut: `auto` looks only for objects an earlier attempt may have landed, or that
 * land again or as a repair (the core may hold them already: a copy verify could not prove).
 */
export function shouldHead(context: Pick<ReplicateContext, 'headBeforePut'>, job: JournalObject): boolean {
  if (context.headBeforePut === 'always') return true;
  if (context.headBeforePut === 'never') return false;
  return job.attempts > 0 || job.deferrals > 0 || job.lastErrorCode !== null || job.landingReason !== null;
}

/**
 * Whether a core copy at `coreKey` with our SHA-256 and size may stand for this version: not while
 * an earlier attempt's wrong copy may be there (the metadata travels before the bytes are
 * checked, so a wrong copy carries it too). Then the object is sent again.
 */
export function trustsCoreCopy(context: Pick<ReplicateContext, 'journal'>, coreKey: string): boolean {
  return !context.journal.isCoreCopySuspect(coreKey);
}

/**
 * The landing when the core already holds this version (a retry after a lost answer) with the
 * headers it lands with (`landing`), else undefined.
 */
export async function alreadyInCore(
  context: ReplicateContext,
  job: JournalObject,
  coreKey: string,
  sha256Hex: string,
  md5Hex: string | undefined,
  landing: ObjectHeaders,
  signal: AbortSignal | undefined,
): Promise<ReplicateResult | undefined> {
  if (!shouldHead(context, job) || !trustsCoreCopy(context, coreKey)) return undefined;
  const head = await context.lake.head(coreKey, { signal });
  if (!isOurs(head, job.size, sha256Hex, md5Hex, landing)) return undefined;
  return { coreKey, sha256: sha256Hex, coreEtag: head?.etag ?? null, coreSize: job.size, alreadyPresent: true };
}

/** The MD5 the core checks: the source's plain ETag, unless the edge said it is opaque (SSE-KMS, SSE-C). */
export function wantMd5(job: JournalObject): Md5Wanted {
  const plain = isPlainMd5Etag(job.etag);
  return (read) => !(plain && read.etagFromMd5);
}
