/**
 * Clean-up after an attempt that left, or may have left, a wrong copy of ours in the core. The
 * journal marks the core key suspect first, in a commit of its own, and the mark stays until a
 * version lands at that key: after a failed DELETE, a crash, or a core whose reads lag its
 * writes, no attempt of any version takes a copy there for ours (see decide.ts, trustsCoreCopy).
 */
import type { JournalObject } from '../ports/journal.js';
import type { LakeHead } from '../ports/lake-store.js';
import { META } from '../land/lineage.js';
import type { ReplicateContext } from './context.js';

/**
 * Deletes a core copy this attempt wrote with wrong bytes: its lineage metadata names the version
 * and its SHA-256, so it must not stay in the lake, even if the object ends dead.
 */
export async function deleteWrongCopy(
  context: ReplicateContext,
  job: JournalObject,
  key: string,
  signal: AbortSignal | undefined,
): Promise<void> {
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
export async function deleteWrongCopyIfThere(
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
