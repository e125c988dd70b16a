import type { ErrorCode } from '../core/errors.js';
import type { ObjectState } from '../core/object-state.js';
import type { SourceObject } from './source-store.js';

/** One journaled object version, as the runner and the CLI see it. */
export interface JournalObject {
  readonly id: number;
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** False while mtimeMs is an event's time, not yet the object's Last-Modified. */
  readonly mtimeExact: boolean;
  readonly versionId: string | null;
  readonly state: ObjectState;
  readonly priority: number;
  readonly attempts: number;
  readonly deferrals: number;
  readonly nextAttemptAt: number;
  readonly lastErrorCode: string | null;
  readonly lastError: string | null;
  readonly coreKey: string | null;
  readonly sha256: string | null;
  readonly coreEtag: string | null;
  readonly coreSize: number | null;
  readonly detectedBy: string;
  readonly firstSeenAt: number;
  readonly landedAt: number | null;
}

export type SeenOutcome = 'new' | 'changed' | 'unchanged';

export interface SeenDecision {
  readonly priority: number;
  readonly excluded: boolean;
}

export interface LandedFacts {
  readonly coreKey: string;
  readonly sha256: string;
  readonly coreEtag: string | null;
  readonly coreSize: number;
}

export interface FailureFacts {
  readonly code: ErrorCode;
  readonly message: string;
  /** 'retry' keeps it runnable at nextAttemptAt; 'dead' parks it until `tributary retry`. */
  readonly outcome: 'retry' | 'dead';
  readonly consumeAttempt: boolean;
  readonly nextAttemptAt: number;
}

export interface MultipartProgress {
  readonly uploadId: string;
  readonly coreKey: string;
  readonly partSize: number;
  readonly sha256: string;
  /** The hashing pass's MD5 of every part (16 bytes each, in order); undefined for older uploads. */
  readonly partMd5s?: Buffer | undefined;
  readonly parts: ReadonlyMap<number, { readonly etag: string; readonly size: number }>;
}

export interface LandingStats {
  readonly objects: number;
  readonly bytes: number;
  /** Milliseconds from first seen at the edge to landed; null when nothing landed. */
  readonly lagP50Ms: number | null;
  readonly lagP99Ms: number | null;
  readonly lagMaxMs: number | null;
}

export interface ScanCheckpoint {
  readonly passStartedAt: number;
  readonly startAfter: string | null;
  readonly objectsSeen: number;
  readonly completedAt: number | null;
}

export interface PendingDeletion {
  readonly id: number;
  readonly bucket: string;
  readonly key: string;
  readonly coreKey: string;
  readonly sha256: string | null;
  readonly attempts: number;
}

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

export interface BacklogRow {
  readonly state: ObjectState;
  readonly priority: number;
  readonly objects: number;
  readonly bytes: number;
}

/** The durable catalog of every object version seen (SQLite). */
export interface Journal {
  recordSeen(objects: readonly SourceObject[], decide: (object: SourceObject) => SeenDecision, detectedBy: string): SeenOutcome[];
  claim(limit: number): JournalObject[];
  get(id: number): JournalObject | undefined;
  latest(bucket: string, key: string): JournalObject | undefined;
  /** Written behind: durable within milliseconds, at once on flush() or any other call. */
  markLanded(id: number, facts: LandedFacts): void;
  /** Writes pending landings now. */
  flush(): void;
  markFailed(id: number, facts: FailureFacts): void;
  /**
   * Records the object's real Last-Modified for a row an event created. False, and nothing
   * written, when a newer row holds this very version: this row is history then.
   */
  setExactMtime(id: number, mtimeMs: number): boolean;
  /**
   * Marks a core key where an attempt of `object` found a wrong copy of ours (our lineage on other
   * bytes), written at once: until a version lands at that key, no core copy there is taken for
   * ours (isCoreCopySuspect).
   */
  markCoreCopySuspect(object: Pick<JournalObject, 'id' | 'bucket' | 'key'>, coreKey: string): void;
  /** The DELETE of that wrong copy succeeded: `status` no longer lists it (the mark stays). */
  markSuspectCopyDeleted(coreKey: string): void;
  isCoreCopySuspect(coreKey: string): boolean;
  /** This version will never land because a newer one was seen; the reason is kept. */
  markSuperseded(id: number, reason: string): void;
  /** Back to queued without touching attempts (shutdown, throttling, unreachable endpoint). */
  release(id: number, options?: { readonly nextAttemptAt?: number; readonly code?: ErrorCode; readonly message?: string }): void;
  /** Objects a crash left `transferring` go back to `queued`; their multipart progress stays. */
  recoverInFlight(): number;
  retryDead(filter?: { readonly code?: string | undefined }): number;

  multipart(id: number): MultipartProgress | undefined;
  startMultipart(id: number, upload: Omit<MultipartProgress, 'parts'>): void;
  recordPart(id: number, partNumber: number, etag: string, size: number): void;
  forgetMultipart(id: number): void;

  checkpoint(bucket: string, prefix: string): ScanCheckpoint | undefined;
  saveCheckpoint(bucket: string, prefix: string, checkpoint: ScanCheckpoint): void;

  /** Assigns up to `limit` landed, unlisted objects to a new manifest batch; undefined if none. */
  planManifestBatch(limit: number): number | undefined;
  /** Batches planned but not yet written (just planned, or a crash came between), oldest first. */
  unwrittenManifestBatches(): { readonly id: number; readonly createdAt: number }[];
  /**
   * The objects of a batch, one at a time (a batch holds up to 10,000). Consume it synchronously:
   * the journal cannot run another query until the iteration ends.
   */
  manifestBatchObjects(batch: number): Iterable<JournalObject>;
  markManifestBatchWritten(batch: number): void;

  /** deletes: propagate — a pending deletion of the core copy of the key's latest landed version. */
  requestDeletion(bucket: string, key: string, detectedBy: string): boolean;
  /** Marks the listed objects as seen by the scan pass that started at `pass`. */
  markSeen(objects: readonly { readonly bucket: string; readonly key: string }[], pass: number): void;
  /** After a complete pass: deletions for landed keys under the target that it did not list. */
  requestDeletionsNotSeen(bucket: string, prefix: string, pass: number): number;
  pendingDeletions(limit: number): PendingDeletion[];
  finishDeletion(id: number, outcome: 'deleted' | 'skipped', reason: string): void;
  failDeletion(id: number, reason: string): void;

  /**
   * Edge retention: gives up to `limit` landed, unplanned objects their expiry (`expiresAt`: when
   * the edge copy may go, or null for never); returns the rows it touched: call until 0. A
   * different `policy` than last time first re-plans, page by page, every object whose edge copy
   * is still there.
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
  /** Whether edge retention deleted (or may have deleted) the edge copy of a deletion request's object. */
  removedByRetention(deletionId: number): boolean;
  /** The core copy of a done object is gone while the edge still holds it: replicate it again (its next landing is listed in a manifest again). */
  requeueMissing(id: number, code: ErrorCode, message: string): void;
  edgeRetentionCounts(): RetentionCounts;
  /** Objects whose edge copy retention deleted (the latest version of their key), by id after `afterId`. */
  removedFromEdge(afterId: number, limit: number): JournalObject[];
  /** Objects kept at the edge because their core copy differs, latest first. */
  heldOnEdge(limit: number): { readonly bucket: string; readonly key: string; readonly note: string }[];
  /** Core keys that may still hold a wrong copy of ours (its DELETE failed), how many and the latest. */
  suspectCoreCopies(limit: number): {
    readonly objects: number;
    readonly latest: readonly { bucket: string; key: string; state: ObjectState | 'unknown'; coreKey: string }[];
  };

  backlog(): BacklogRow[];
  oldestPendingSince(): number | undefined;
  /** What landed since `since` (ms): how many, how many bytes, and the lag (first seen to landed) at a few percentiles. */
  landedSince(since: number): LandingStats;
  recentErrors(limit: number): JournalObject[];
  countRunnable(): number;
  /** Earliest time a queued or failed object may run, if any is waiting. */
  nextAttemptAt(): number | undefined;
  /** The latest version of every key, streamed in key order (for verify). */
  iterateLatest(): IterableIterator<JournalObject>;
  close(): void;
}
