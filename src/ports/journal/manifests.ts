/** Manifest batches: landed objects are listed once, planned before their files are written. */
import type { JournalObject } from './objects.js';

export interface ManifestJournal {
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
}
