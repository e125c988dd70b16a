/**
 * The Journal over one SQLite file: one module per concept (objects and their states, multipart
 * progress, scan checkpoints, adoption, manifests, deletions, retention, suspect copies, statistics, the
 * endpoints' health), each
 * preparing its statements once over the same connection and migration sequence. Every write
 * that must be atomic (a page of listing results, a landing, a failure with its backoff) is one
 * transaction. Nothing is cached in the heap: millions of rows stay on disk.
 */
import { coerceError } from '../core/errors.js';
import { openDatabase, type Db } from '../db/open-database.js';
import type { Clock } from '../ports/clock.js';
import type { Journal } from '../ports/journal.js';
import { createAdoptionJournal } from './adoption.js';
import { createCheckpointJournal } from './checkpoints.js';
import { createDeletionJournal } from './deletions.js';
import { createEndpointHealthJournal } from './endpoint-health.js';
import { createGuard } from './guard.js';
import { createManifestJournal } from './manifests.js';
import { createMetaStore } from './meta.js';
import { createMultipartJournal } from './multipart.js';
import { createObjectJournal } from './objects.js';
import { createRetentionJournal } from './retention.js';
import { createStatisticsJournal } from './statistics.js';
import { createSuspectCopyJournal } from './suspect-copies.js';

export function openJournal(folder: string, clock: Clock, options: { readonly readonly?: boolean } = {}): Journal {
  const db = openDatabase(folder, options);
  return createJournal(db, clock, folder);
}

/** The calls that do not flush the landings written behind first. */
const WRITE_BEHIND = new Set<keyof Journal>(['markLanded', 'flush', 'close']);

export function createJournal(db: Db, clock: Clock, folder = '(memory)'): Journal {
  const guarded = createGuard(folder);
  const meta = createMetaStore(db);
  const multipart = createMultipartJournal(db, clock, guarded);
  const { clearKey, ...suspectCopies } = createSuspectCopyJournal(db, clock, guarded);
  const { pendingLandings, flushError, ...objects } = createObjectJournal(db, clock, guarded, meta, (id, coreKey) => {
    clearKey(coreKey);
    multipart.forgetMultipart(id);
  });
  const journal: Journal = {
    ...objects,
    ...multipart,
    ...createCheckpointJournal(db, guarded),
    ...createAdoptionJournal(db, clock, guarded, meta),
    ...createManifestJournal(db, clock, guarded),
    ...createDeletionJournal(db, clock, guarded),
    ...createRetentionJournal(db, clock, guarded, meta),
    ...suspectCopies,
    ...createStatisticsJournal(db, meta),
    ...createEndpointHealthJournal(guarded, meta),
    close: () => {
      if (!db.open) return;
      objects.flush();
      db.close();
    },
  };
  // Every other call sees the pending landings written first, so nothing in this process ever
  // reads a stale state; a flush that failed on its timer is reported by the next call.
  for (const name of Object.keys(journal) as (keyof Journal)[]) {
    if (WRITE_BEHIND.has(name)) continue;
    const method = journal[name].bind(journal) as (...args: unknown[]) => unknown;
    (journal as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const failed = flushError();
      if (failed !== undefined) throw coerceError(failed);
      if (pendingLandings() > 0) objects.flush();
      return method(...args);
    };
  }
  return journal;
}
