/**
 * Edge retention: each landed object's expiry at the edge, the `deleting` mark made durable
 * before its DELETE goes out, and what every round decided (deleted, held, kept, postponed).
 */
import type { Db } from '../db/open-database.js';
import type { Clock } from '../ports/clock.js';
import type { RetentionCandidate, RetentionCounts, RetentionJournal, RetentionOutcome } from '../ports/journal.js';
import type { Guarded } from './guard.js';
import type { MetaStore } from './meta.js';
import { MAX_ERROR_TEXT, NEVER, toObject, type ObjectRow } from './rows.js';

const RETENTION_POLICY_META = 'edge_retention_policy';

export function createRetentionJournal(db: Db, clock: Clock, guarded: Guarded, meta: MetaStore): RetentionJournal {
  const sql = {
    row: db.prepare<[number], ObjectRow>('SELECT * FROM objects WHERE id = ?'),
    // A new policy re-plans, a page at a time, every object whose edge copy is still there.
    unplanRetention: db.prepare<[number]>(
      `UPDATE objects SET edge_expires_at = NULL
       WHERE id IN (SELECT id FROM objects INDEXED BY objects_edge_expiry
                    WHERE state = 'done' AND edge_expires_at IS NOT NULL AND (edge_retention IS NULL OR edge_retention = 'held') LIMIT ?)`,
    ),
    unplanned: db.prepare<
      [number],
      { id: number; bucket: string; key: string; mtime_ms: number; landed_at: number | null; first_seen_at: number }
    >(
      `SELECT id, bucket, key, mtime_ms, landed_at, first_seen_at FROM objects INDEXED BY objects_edge_expiry
       WHERE state = 'done' AND edge_expires_at IS NULL LIMIT ?`,
    ),
    planExpiry: db.prepare<[number, number]>('UPDATE objects SET edge_expires_at = ? WHERE id = ?'),
    dueForEdgeDeletion: db.prepare<[{ now: number; limit: number }], ObjectRow & { latest: number }>(
      `SELECT o.*, NOT EXISTS (SELECT 1 FROM objects n WHERE n.bucket = o.bucket AND n.key = o.key AND n.id > o.id) AS latest
       FROM objects o INDEXED BY objects_edge_expiry
       WHERE o.state = 'done' AND o.edge_expires_at <= @now ORDER BY o.edge_expires_at LIMIT @limit`,
    ),
    markEdgeDeleting: db.prepare<[number, number]>(
      `UPDATE objects SET edge_retention = 'deleting', updated_at = ?
       WHERE id = ? AND state = 'done'
         AND NOT EXISTS (SELECT 1 FROM objects n WHERE n.bucket = objects.bucket AND n.key = objects.key AND n.id > objects.id)`,
    ),
    clearEdgeDeleting: db.prepare<[number, number]>(
      `UPDATE objects SET edge_retention = NULL, updated_at = ? WHERE id = ? AND edge_retention = 'deleting'`,
    ),
    recordEdgeRetention: db.prepare<
      [{ retention: string | null; note: string; expires: number; deletedAt: number | null; now: number; id: number }]
    >(
      `UPDATE objects SET edge_retention = @retention, edge_retention_note = @note, edge_expires_at = @expires,
         edge_deleted_at = coalesce(@deletedAt, edge_deleted_at), updated_at = @now
       WHERE id = @id`,
    ),
    heldCount: db.prepare<[], { n: number }>(
      `SELECT count(*) AS n FROM objects INDEXED BY objects_edge_retention WHERE edge_retention = 'held'`,
    ),
    // deleting and held rows have an expiry below NEVER; deleted and kept ones are at NEVER.
    retentionScheduled: db.prepare<[number], { n: number }>(
      `SELECT count(*) AS n FROM objects INDEXED BY objects_edge_expiry WHERE state = 'done' AND edge_expires_at < ?`,
    ),
    removedFromEdge: db.prepare<[number, number], ObjectRow>(
      `SELECT o.* FROM objects o INDEXED BY objects_edge_retention
       WHERE o.edge_retention = 'deleted' AND o.id > ?
         AND NOT EXISTS (SELECT 1 FROM objects n WHERE n.bucket = o.bucket AND n.key = o.key AND n.id > o.id)
       ORDER BY o.id LIMIT ?`,
    ),
    heldOnEdge: db.prepare<[number], { bucket: string; key: string; note: string | null }>(
      `SELECT bucket, key, edge_retention_note AS note FROM objects INDEXED BY objects_edge_retention
       WHERE edge_retention = 'held' ORDER BY updated_at DESC LIMIT ?`,
    ),
  };
  return {
    planEdgeRetention: (policy, expiresAt, limit) =>
      guarded('plan edge retention', () => {
        if (meta.get(RETENTION_POLICY_META) !== policy) {
          // One page per call, like the planning below: the caller yields between calls.
          const unplanned = sql.unplanRetention.run(limit).changes;
          if (unplanned > 0) return unplanned;
          meta.set(RETENTION_POLICY_META, policy);
        }
        const page = sql.unplanned.all(limit);
        db.transaction(() => {
          for (const row of page) {
            // A version adopted from the core has no landing of its own: its period runs from its adoption.
            const landedAt = row.landed_at ?? row.first_seen_at;
            const at = expiresAt({ bucket: row.bucket, key: row.key, mtimeMs: row.mtime_ms, landedAt });
            sql.planExpiry.run(at === null ? NEVER : Math.min(at, NEVER), row.id);
          }
        })();
        return page.length;
      }),
    dueForEdgeDeletion: (now, limit): RetentionCandidate[] =>
      sql.dueForEdgeDeletion.all({ now, limit }).map((row) => {
        const object = toObject(row);
        return {
          ...object,
          coreKey: object.coreKey ?? '',
          coreSize: object.coreSize ?? object.size,
          latest: row.latest !== 0,
          deleting: row.edge_retention === 'deleting',
        };
      }),
    markEdgeDeleting: (ids) =>
      guarded('record edge deletions', () => {
        const now = clock.now();
        const marked: number[] = [];
        // synchronous = FULL for this one commit: it is on disk before any DELETE goes out.
        const previous = db.pragma('synchronous', { simple: true }) as number;
        db.pragma('synchronous = FULL');
        try {
          db.transaction(() => {
            for (const id of ids) if (sql.markEdgeDeleting.run(now, id).changes > 0) marked.push(id);
          })();
        } finally {
          db.pragma(`synchronous = ${previous}`);
        }
        return marked;
      }),
    clearEdgeDeleting: (id) =>
      guarded('record a refused edge deletion', () => {
        sql.clearEdgeDeleting.run(clock.now(), id);
      }),
    recordEdgeRetention: (id, result: RetentionOutcome) =>
      guarded('record an edge retention outcome', () => {
        const row = sql.row.get(id);
        if (row === undefined) return;
        const now = clock.now();
        db.transaction(() => {
          sql.recordEdgeRetention.run({
            // A postponed check keeps 'deleting': the DELETE may have gone out.
            retention: result.outcome === 'postponed' ? (row.edge_retention ?? null) : result.outcome,
            note: result.note.slice(0, MAX_ERROR_TEXT),
            expires: 'recheckAt' in result ? result.recheckAt : NEVER,
            deletedAt: result.outcome === 'deleted' ? now : null,
            now,
            id,
          });
          if (result.outcome === 'deleted') {
            meta.add('edge_deleted_objects', 1);
            meta.add('edge_deleted_bytes', row.size);
          }
          if (result.outcome === 'kept') meta.add('edge_kept_objects', 1);
        })();
      }),
    edgeRetentionCounts: (): RetentionCounts => {
      return {
        deleted: meta.counter('edge_deleted_objects'),
        deletedBytes: meta.counter('edge_deleted_bytes'),
        held: sql.heldCount.get()?.n ?? 0,
        kept: meta.counter('edge_kept_objects'),
        scheduled: sql.retentionScheduled.get(NEVER)?.n ?? 0,
      };
    },
    removedFromEdge: (afterId, limit) => sql.removedFromEdge.all(afterId, limit).map(toObject),
    heldOnEdge: (limit) => sql.heldOnEdge.all(limit).map((r) => ({ bucket: r.bucket, key: r.key, note: r.note ?? '' })),
  };
}
