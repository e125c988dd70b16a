/** deletes: propagate — deletion requests for the core copies of keys deleted at the edge. */
import type { Db } from '../db/open-database.js';
import type { Clock } from '../ports/clock.js';
import type { DeletionJournal } from '../ports/journal.js';
import type { Guarded } from './guard.js';
import { MAX_ERROR_TEXT } from './rows.js';

/** Deletion requests (deletes: propagate) never follow an edge deletion that retention made. */
const NOT_REMOVED_BY_RETENTION = "(edge_retention IS NULL OR edge_retention NOT IN ('deleting', 'deleted'))";

export function createDeletionJournal(db: Db, clock: Clock, guarded: Guarded): DeletionJournal {
  const sql = {
    requestDeletion: db.prepare<[string, number, string, string]>(
      `INSERT OR IGNORE INTO deletions (object_id, bucket, key, core_key, sha256, detected_by, requested_at)
       SELECT id, bucket, key, core_key, sha256, ?, ? FROM objects
       WHERE id = (SELECT max(id) FROM objects WHERE bucket = ? AND key = ?) AND state = 'done' AND core_key IS NOT NULL
         AND ${NOT_REMOVED_BY_RETENTION}`,
    ),
    markSeen: db.prepare<[number, string, string]>(
      `UPDATE objects SET seen_pass = ? WHERE id = (SELECT max(id) FROM objects WHERE bucket = ? AND key = ?)`,
    ),
    requestNotSeen: db.prepare<{ detectedBy: string; now: number; bucket: string; prefix: string; pass: number }>(
      `INSERT OR IGNORE INTO deletions (object_id, bucket, key, core_key, sha256, detected_by, requested_at)
       SELECT o.id, o.bucket, o.key, o.core_key, o.sha256, @detectedBy, @now FROM objects o
       WHERE o.bucket = @bucket AND substr(o.key, 1, length(@prefix)) = @prefix AND o.state = 'done' AND o.core_key IS NOT NULL
         AND o.first_seen_at < @pass AND (o.seen_pass IS NULL OR o.seen_pass < @pass) AND ${NOT_REMOVED_BY_RETENTION}
         AND o.id = (SELECT max(i.id) FROM objects i WHERE i.bucket = o.bucket AND i.key = o.key)`,
    ),
    pendingDeletions: db.prepare<
      [number],
      { id: number; bucket: string; key: string; core_key: string; sha256: string | null; core_etag: string | null; attempts: number }
    >(
      `SELECT d.id, d.bucket, d.key, d.core_key, d.sha256, o.core_etag, d.attempts
       FROM deletions d JOIN objects o ON o.id = d.object_id WHERE d.done_at IS NULL ORDER BY d.id LIMIT ?`,
    ),
    finishDeletion: db.prepare<[number, string, string, number]>(
      'UPDATE deletions SET done_at = ?, outcome = ?, last_error = ? WHERE id = ?',
    ),
    failDeletion: db.prepare<[string, number]>('UPDATE deletions SET attempts = attempts + 1, last_error = ? WHERE id = ?'),
    removedByRetention: db.prepare<[number], { retained: number }>(
      `SELECT coalesce(o.edge_retention IN ('deleting', 'deleted'), 0) AS retained
       FROM deletions d JOIN objects o ON o.id = d.object_id WHERE d.id = ?`,
    ),
  };
  return {
    requestDeletion: (bucket, key, detectedBy) =>
      guarded('request a deletion', () => {
        return sql.requestDeletion.run(detectedBy, clock.now(), bucket, key).changes > 0;
      }),
    markSeen: (objects, pass) =>
      guarded('record a listing', () =>
        db.transaction(() => {
          for (const o of objects) sql.markSeen.run(pass, o.bucket, o.key);
        })(),
      ),
    requestDeletionsNotSeen: (bucket, prefix, pass) =>
      guarded('request deletions', () => sql.requestNotSeen.run({ detectedBy: 'scan', now: clock.now(), bucket, prefix, pass }).changes),
    pendingDeletions: (limit) =>
      sql.pendingDeletions.all(limit).map((r) => ({
        id: r.id,
        bucket: r.bucket,
        key: r.key,
        coreKey: r.core_key,
        sha256: r.sha256,
        coreEtag: r.core_etag,
        attempts: r.attempts,
      })),
    finishDeletion: (id, outcome, reason) =>
      guarded('record a deletion', () => {
        sql.finishDeletion.run(clock.now(), outcome, reason, id);
      }),
    failDeletion: (id, reason) =>
      guarded('record a failed deletion', () => {
        sql.failDeletion.run(reason.slice(0, MAX_ERROR_TEXT), id);
      }),
    removedByRetention: (deletionId) => (sql.removedByRetention.get(deletionId)?.retained ?? 0) !== 0,
  };
}
