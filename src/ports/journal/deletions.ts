/** deletes: propagate — requests to delete core copies of keys deleted at the edge. */

export interface PendingDeletion {
  readonly id: number;
  readonly bucket: string;
  readonly key: string;
  readonly coreKey: string;
  /** Null for a version adopted from the core by its ETag before migration 0015: coreEtag tells its copy then. */
  readonly sha256: string | null;
  readonly coreEtag: string | null;
  readonly attempts: number;
}

export interface DeletionJournal {
  /** A pending deletion of the core copy of the key's latest landed version. */
  requestDeletion(bucket: string, key: string, detectedBy: string): boolean;
  /** Marks the listed objects as seen by the scan pass that started at `pass`. */
  markSeen(objects: readonly { readonly bucket: string; readonly key: string }[], pass: number): void;
  /** After a complete pass: deletions for landed keys under the target that it did not list. */
  requestDeletionsNotSeen(bucket: string, prefix: string, pass: number): number;
  pendingDeletions(limit: number): PendingDeletion[];
  finishDeletion(id: number, outcome: 'deleted' | 'skipped', reason: string): void;
  failDeletion(id: number, reason: string): void;
  /** Whether edge retention deleted (or may have deleted) the edge copy of a deletion request's object. */
  removedByRetention(deletionId: number): boolean;
}
