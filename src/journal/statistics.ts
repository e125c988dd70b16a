/** Aggregates for `status`, /metrics and the heartbeat: backlog, oldest pending, recent landings, latest errors. */
import type { Db } from '../db/open-database.js';
import type { BacklogRow, JournalObject, LandingStats, StatisticsJournal } from '../ports/journal.js';
import { toObject, type ObjectRow } from './rows.js';

export function createStatisticsJournal(db: Db): StatisticsJournal {
  const sql = {
    backlog: db.prepare<[], { state: JournalObject['state']; priority: number; objects: number; bytes: number }>(
      `SELECT state, priority, count(*) AS objects, coalesce(sum(size), 0) AS bytes
       FROM objects WHERE state IN ('discovered', 'queued', 'transferring', 'failed', 'dead')
       GROUP BY state, priority ORDER BY state, priority`,
    ),
    oldestPending: db.prepare<[], { since: number | null }>(
      `SELECT min(first_seen_at) AS since FROM objects WHERE state IN ('discovered', 'queued', 'transferring', 'failed')`,
    ),
    landedStats: db.prepare<[number], { n: number; bytes: number; maxLag: number | null }>(
      `SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes, max(landed_at - first_seen_at) AS maxLag
       FROM objects INDEXED BY objects_landed WHERE landed_at >= ?`,
    ),
    landedLagAt: db.prepare<[number, number], { lag: number }>(
      `SELECT landed_at - first_seen_at AS lag FROM objects INDEXED BY objects_landed WHERE landed_at >= ?
       ORDER BY lag LIMIT 1 OFFSET ?`,
    ),
    recentErrors: db.prepare<[number], ObjectRow>(
      `SELECT * FROM objects WHERE last_error_code IS NOT NULL AND state IN ('failed', 'dead', 'queued', 'transferring')
       ORDER BY updated_at DESC LIMIT ?`,
    ),
  };
  return {
    backlog: (): BacklogRow[] => sql.backlog.all(),
    oldestPendingSince: () => sql.oldestPending.get()?.since ?? undefined,
    landedSince: (since): LandingStats => {
      const stats = sql.landedStats.get(since)!;
      const at = (p: number) => (stats.n === 0 ? null : sql.landedLagAt.get(since, Math.min(stats.n - 1, Math.floor(p * stats.n)))!.lag);
      return { objects: stats.n, bytes: stats.bytes, lagP50Ms: at(0.5), lagP99Ms: at(0.99), lagMaxMs: stats.maxLag };
    },
    recentErrors: (limit) => sql.recentErrors.all(limit).map(toObject),
  };
}
