/**
 * Core keys where an attempt found a wrong copy of ours (our lineage on other bytes): until a
 * version lands there, no copy at such a key is taken for ours.
 */
import type { ObjectState } from '../../core/object-state.js';
import type { JournalObject } from './objects.js';

export interface SuspectCopyJournal {
  /**
   * Marks a core key where an attempt of `object` found a wrong copy of ours, written at once:
   * until a version lands at that key, no core copy there is taken for ours (isCoreCopySuspect).
   */
  markCoreCopySuspect(object: Pick<JournalObject, 'id' | 'bucket' | 'key'>, coreKey: string): void;
  /** The DELETE of that wrong copy succeeded: `status` no longer lists it (the mark stays). */
  markSuspectCopyDeleted(coreKey: string): void;
  isCoreCopySuspect(coreKey: string): boolean;
  /** Core keys that may still hold a wrong copy of ours (its DELETE failed), how many and the latest. */
  suspectCoreCopies(limit: number): {
    readonly objects: number;
    readonly latest: readonly { bucket: string; key: string; state: ObjectState | 'unknown'; coreKey: string }[];
  };
}
