/**
 * Suspect core copies are a property of the core key, not of one journal row: a wrong copy that
 * version A left is at the key where B, and A again, land too. A key stays marked until a version
 * lands at it (clearKey, in the landing's transaction).
 */
import type { ObjectState } from '../core/object-state.js';
import type { Db } from '../db/open-database.js';
import type { Clock } from '../ports/clock.js';
import type { SuspectCopyJournal } from '../ports/journal.js';
import type { Guarded } from './guard.js';

export function createSuspectCopyJournal(
  db: Db,
  clock: Clock,
  guarded: Guarded,
): SuspectCopyJournal & { readonly clearKey: (coreKey: string) => void } {
  const sql = {
    markSuspect: db.prepare<[string, string, string, number, number]>(
      `INSERT INTO suspect_core_copies (core_key, bucket, key, object_id, marked_at, delete_failed) VALUES (?, ?, ?, ?, ?, 1)
       ON CONFLICT (core_key) DO UPDATE SET bucket = excluded.bucket, key = excluded.key, object_id = excluded.object_id,
         marked_at = excluded.marked_at, delete_failed = 1`,
    ),
    suspectDeleted: db.prepare<[string]>('UPDATE suspect_core_copies SET delete_failed = 0 WHERE core_key = ?'),
    isSuspect: db.prepare<[string], { n: number }>('SELECT 1 AS n FROM suspect_core_copies WHERE core_key = ?'),
    clearSuspect: db.prepare<[string]>('DELETE FROM suspect_core_copies WHERE core_key = ?'),
    suspectCoreCopies: db.prepare<[number], { bucket: string; key: string; state: string | null; core_key: string }>(
      `SELECT s.bucket, s.key, o.state, s.core_key FROM suspect_core_copies s LEFT JOIN objects o ON o.id = s.object_id
       WHERE s.delete_failed = 1 ORDER BY s.marked_at DESC LIMIT ?`,
    ),
    suspectCoreCopyCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM suspect_core_copies WHERE delete_failed = 1'),
  };
  return {
    markCoreCopySuspect: (object, coreKey) =>
      guarded('record a suspect core copy', () => {
        sql.markSuspect.run(coreKey, object.bucket, object.key, object.id, clock.now());
      }),
    markSuspectCopyDeleted: (coreKey) =>
      guarded('record a deleted core copy', () => {
        sql.suspectDeleted.run(coreKey);
      }),
    clearKey: (coreKey) => void sql.clearSuspect.run(coreKey),
    isCoreCopySuspect: (coreKey) => sql.isSuspect.get(coreKey) !== undefined,
    suspectCoreCopies: (limit) => ({
      objects: sql.suspectCoreCopyCount.get()!.n,
      latest: sql.suspectCoreCopies
        .all(limit)
        .map((r) => ({ bucket: r.bucket, key: r.key, state: (r.state ?? 'unknown') as ObjectState | 'unknown', coreKey: r.core_key })),
    }),
  };
}
