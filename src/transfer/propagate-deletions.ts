/**
 * deletes: propagate. Carries out the journaled deletion requests, each only when it is safe:
 * the edge must confirm the object is gone (a key deleted and written again is not deleted), and
 * the core copy must be the version that was replicated (its SHA-256 is the journaled one), so a
 * newer copy from elsewhere is never removed. Failures are retried on the next round.
 */
import { coerceError } from '../core/errors.js';
import type { Journal, PendingDeletion } from '../ports/journal.js';
import type { LakeHead, LakeStore } from '../ports/lake-store.js';
import type { SourceStore } from '../ports/source-store.js';
import { META } from '../land/lineage.js';

export interface DeletionRound {
  readonly deleted: number;
  readonly skipped: number;
  readonly failed: number;
}

/**
 * Whether the core copy is the replicated version: its lineage shows the journaled SHA-256, or,
 * for a version adopted from the core by its ETag before migration 0015 (no SHA-256 recorded), it
 * still shows that ETag.
 */
function isReplicatedCopy(request: PendingDeletion, head: LakeHead): boolean {
  if (request.sha256 !== null) return head.metadata[META.sha256] === request.sha256;
  return request.coreEtag !== null && head.etag === request.coreEtag;
}

export async function propagateDeletions(
  deps: { readonly journal: Journal; readonly source: SourceStore; readonly lake: LakeStore },
  signal?: AbortSignal,
): Promise<DeletionRound> {
  const { journal, source, lake } = deps;
  let deleted = 0;
  let skipped = 0;
  let failed = 0;
  // Each pending request once per round: a failing one waits for the next round.
  for (const request of journal.pendingDeletions(10_000)) {
    signal?.throwIfAborted();
    try {
      const stillThere = await source.head(request, { signal }).then(
        () => true,
        (error: unknown) => {
          if (coerceError(error).code === 'TRIB_ERR_SOURCE_GONE') return false;
          throw error;
        },
      );
      if (stillThere) {
        journal.finishDeletion(request.id, 'skipped', 'the object exists again at the edge');
        skipped += 1;
        continue;
      }
      // Read now, after the edge answered, not from the list taken at the start of the round:
      // edge retention may have deleted the edge copy meanwhile, and its absence is then no
      // user's deletion.
      if (journal.removedByRetention(request.id)) {
        journal.finishDeletion(request.id, 'skipped', 'edge retention deleted the edge copy: the core copy stays');
        skipped += 1;
        continue;
      }
      const head = await lake.head(request.coreKey, { signal });
      if (head === undefined) {
        journal.finishDeletion(request.id, 'deleted', 'already gone from the core');
        deleted += 1;
      } else if (!isReplicatedCopy(request, head)) {
        journal.finishDeletion(request.id, 'skipped', 'the core copy is not the replicated version');
        skipped += 1;
      } else {
        await lake.delete(request.coreKey, { signal });
        journal.finishDeletion(request.id, 'deleted', 'deleted');
        deleted += 1;
      }
    } catch (error) {
      const err = coerceError(error);
      if (err.errorClass === 'cancelled') throw err;
      journal.failDeletion(request.id, `${err.code}: ${err.message}`);
      failed += 1;
    }
  }
  return { deleted, skipped, failed };
}
