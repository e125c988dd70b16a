/** What every stage of an object's transfer works with, and what a transfer yields. */
import type { Journal } from '../ports/journal.js';
import type { LakeStore } from '../ports/lake-store.js';
import type { SourceStore } from '../ports/source-store.js';
import type { TransferResult } from '../ports/transfer.js';
import type { WeightedSemaphore } from './weighted-semaphore.js';

export interface ReplicateContext {
  readonly site: string;
  readonly keyTemplate: string;
  readonly source: SourceStore;
  readonly lake: LakeStore;
  readonly journal: Journal;
  /** Bytes of object data buffered at once (transfer.memoryLimit). */
  readonly budget: WeightedSemaphore;
  /** Hashing passes at once: few, so uploads of hashed objects overlap the passes of the next. */
  readonly hashPasses: WeightedSemaphore;
  readonly partSize: number;
  readonly bufferThreshold: number;
  readonly multipartThreshold: number;
  readonly partConcurrency: number;
  readonly headBeforePut: 'auto' | 'always' | 'never';
  /** Called with logical bytes as they are sent to the core (for progress and rates). */
  readonly onBytesSent?: (bytes: number) => void;
}

export type ReplicateResult = TransferResult;
