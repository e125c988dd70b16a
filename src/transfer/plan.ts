/**
 * The plan of one object's transfer: its exact Last-Modified (an event gives only the event's
 * time), its core key, and the path its size calls for (docs/adr/0002-buffering-and-hashing.md).
 */
import { TributaryError } from '../core/errors.js';
import { coreKeyFor } from '../land/core-key-for.js';
import type { JournalObject } from '../ports/journal.js';
import type { ReplicateContext } from './context.js';

/** buffered: one GET into memory; streamed: a hashing pass, then GET into PUT; multipart: parts. */
export type TransferPath = 'buffered' | 'streamed' | 'multipart';

export interface TransferPlan {
  /** The object with its real Last-Modified. */
  readonly job: JournalObject;
  readonly coreKey: string;
  readonly path: TransferPath;
}

const MAX_PARTS = 10_000;

/** Part size that keeps the part count within the S3 limit of 10,000. */
export function effectivePartSize(objectSize: number, configured: number): number {
  const minimum = Math.ceil(objectSize / MAX_PARTS);
  return Math.max(configured, Math.ceil(minimum / (1024 * 1024)) * 1024 * 1024);
}

export function choosePath(size: number, settings: Pick<ReplicateContext, 'bufferThreshold' | 'multipartThreshold'>): TransferPath {
  if (size > settings.multipartThreshold) return 'multipart';
  if (size > settings.bufferThreshold) return 'streamed';
  return 'buffered';
}

/**
 * An object an event announced carries the event's time, not its Last-Modified, which the core
 * key's date tokens and the lineage need: one HEAD at the edge settles it (and notices an object
 * already overwritten or deleted).
 */
async function withExactMtime(context: ReplicateContext, job: JournalObject, signal: AbortSignal | undefined): Promise<JournalObject> {
  if (job.mtimeExact) return job;
  const current = await context.source.head(job, { signal });
  if (current.etag !== job.etag || current.size !== job.size) {
    throw new TributaryError(
      'TRIB_ERR_SOURCE_CHANGED',
      `edge HEAD ${job.bucket}/${job.key}: the object changed since its event (ETag ${current.etag})`,
    );
  }
  if (!context.journal.setExactMtime(job.id, current.mtime.getTime())) {
    throw new TributaryError(
      'TRIB_ERR_SOURCE_CHANGED',
      `edge ${job.bucket}/${job.key}: a newer sighting of this version is journaled; this row is superseded by it`,
    );
  }
  return { ...job, mtimeMs: current.mtime.getTime(), mtimeExact: true };
}

export async function planTransfer(
  context: ReplicateContext,
  announced: JournalObject,
  signal: AbortSignal | undefined,
): Promise<TransferPlan> {
  const job = await withExactMtime(context, announced, signal);
  return { job, coreKey: coreKeyFor(context, job), path: choosePath(job.size, context) };
}
