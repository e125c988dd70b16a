/** Edge retention: when each landed object's edge copy may go, and what became of it. */
import type { JournalObject } from './objects.js';

/** A landed object version whose edge copy may be deleted now (edge retention). */
export interface RetentionCandidate extends Pick<
  JournalObject,
  'id' | 'bucket' | 'key' | 'etag' | 'size' | 'mtimeMs' | 'sha256' | 'coreEtag'
> {
  readonly coreKey: string;
  readonly coreSize: number;
  /** False when a newer version of the key has been journaled since. */
  readonly latest: boolean;
  /** A previous round may have sent the DELETE already (it then crashed or failed). */
  readonly deleting: boolean;
}

/** What a retention round decided for one candidate. */
export type RetentionOutcome =
  | { readonly outcome: 'deleted'; readonly note: string }
  /** The core copy differs from the replicated version: kept at the edge, looked at again at recheckAt. */
  | { readonly outcome: 'held'; readonly note: string; readonly recheckAt: number }
  /** The edge holds another version now: this one is never deleted. */
  | { readonly outcome: 'kept'; readonly note: string }
  /** The check could not be made (an endpoint failed): tried again at recheckAt. */
  | { readonly outcome: 'postponed'; readonly note: string; readonly recheckAt: number };

export interface RetentionCounts {
  readonly deleted: number;
  readonly deletedBytes: number;
  readonly held: number;
  readonly kept: number;
  /** Done, planned to be deleted later. */
  readonly scheduled: number;
}

export interface RetentionJournal {
  /**
   * Gives up to `limit` landed, unplanned objects their expiry (`expiresAt`: when the edge copy
   * may go, or null for never); returns the rows it touched: call until 0. A different `policy`
   * than last time first re-plans, page by page, every object whose edge copy is still there.
   */
  planEdgeRetention(
    policy: string,
    expiresAt: (object: { bucket: string; key: string; mtimeMs: number; landedAt: number }) => number | null,
    limit: number,
  ): number;
  /** Landed objects whose edge copy is due for deletion at `now`, earliest first. */
  dueForEdgeDeletion(now: number, limit: number): RetentionCandidate[];
  /**
   * Marks objects `deleting` before their edge DELETE is sent, durably (synced to disk) so that a
   * power loss cannot make retention's deletion look like a user's. Only objects still done and
   * still the latest version of their key are marked; returns their ids.
   */
  markEdgeDeleting(ids: readonly number[]): number[];
  recordEdgeRetention(id: number, result: RetentionOutcome): void;
  /** A DELETE that certainly did not happen (refused): the object is no longer `deleting`. */
  clearEdgeDeleting(id: number): void;
  edgeRetentionCounts(): RetentionCounts;
  /** Objects whose edge copy retention deleted (the latest version of their key), by id after `afterId`. */
  removedFromEdge(afterId: number, limit: number): JournalObject[];
  /** Objects kept at the edge because their core copy differs, latest first. */
  heldOnEdge(limit: number): { readonly bucket: string; readonly key: string; readonly note: string }[];
}
