/**
 * Aggregates for `status`, /metrics and the heartbeat: backlog, oldest pending, recent landings,
 * latest errors (one by one, and grouped), vanished and forgotten versions, re-landings.
 */
import { LANDING_REASONS, type LandingReason, type SettledState } from '../core/object-state.js';
import type { Db } from '../db/open-database.js';
import type { BacklogRow, ErrorGroup, ForgottenGroup, JournalObject, LandingStats, StatisticsJournal } from '../ports/journal.js';
import { relandingCounter, type MetaStore } from './meta.js';
import { toObject, type ObjectRow } from './rows.js';

/** States whose rows carry an error worth reporting: failing, dead, or waiting after a failure. */
const ERROR_STATES = "('failed', 'dead', 'queued', 'transferring')";

export function createStatisticsJournal(db: Db, meta: MetaStore): StatisticsJournal {
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
      `SELECT * FROM objects WHERE last_error_code IS NOT NULL AND state IN ${ERROR_STATES}
       ORDER BY updated_at DESC LIMIT ?`,
    ),
    // The object's own key is taken out of its message (as bucket/key, and as the end of a core
    // key under a template that puts something between the two), so that objects failing the same
    // way have the same message. One pass over the failing rows: each group's size and latest time
    // by window, and its newest `examples` rows by rank.
    errorGroups: db.prepare<
      [{ examples: number }],
      {
        state: JournalObject['state'];
        code: string;
        message: string;
        n: number;
        latest: number;
        bucket: string;
        key: string;
        attempts: number;
        error: string | null;
      }
    >(
      `WITH errs AS (
         SELECT id, state, last_error_code AS code, bucket, key, updated_at, attempts, last_error AS error,
                replace(replace(coalesce(last_error, ''), bucket || '/' || key, '…'), '/' || key, '/…') AS message
         FROM objects WHERE last_error_code IS NOT NULL AND state IN ${ERROR_STATES}
       ), ranked AS (
         SELECT *, count(*) OVER g AS n, max(updated_at) OVER g AS latest,
                row_number() OVER (g ORDER BY updated_at DESC, id DESC) AS rank
         FROM errs WINDOW g AS (PARTITION BY state, code, message)
       )
       SELECT state, code, message, n, latest, bucket, key, attempts, error FROM ranked WHERE rank <= @examples
       ORDER BY latest DESC, state, code, message, rank`,
    ),
    settled: db.prepare<[], { state: SettledState; objects: number; bytes: number }>(
      `SELECT state, count(*) AS objects, coalesce(sum(size), 0) AS bytes FROM objects
       WHERE state IN ('vanished', 'forgotten') GROUP BY state`,
    ),
    latestVanished: db.prepare<[number], { bucket: string; key: string; size: number; first_seen_at: number; vanished_at: number }>(
      `SELECT bucket, key, size, first_seen_at, vanished_at FROM objects INDEXED BY objects_vanished
       WHERE state = 'vanished' ORDER BY vanished_at DESC, id DESC LIMIT ?`,
    ),
    forgottenReasons: db.prepare<[number], { reason: string; n: number; bytes: number; latest: number }>(
      `SELECT coalesce(forget_reason, '') AS reason, count(*) AS n, coalesce(sum(size), 0) AS bytes, max(forgotten_at) AS latest
       FROM objects INDEXED BY objects_forgotten WHERE state = 'forgotten'
       GROUP BY coalesce(forget_reason, '') ORDER BY latest DESC LIMIT ?`,
    ),
    forgottenExamples: db.prepare<[string, number], { bucket: string; key: string; code: string | null }>(
      `SELECT bucket, key, last_error_code AS code FROM objects INDEXED BY objects_forgotten
       WHERE state = 'forgotten' AND coalesce(forget_reason, '') = ? ORDER BY forgotten_at DESC, id DESC LIMIT ?`,
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
    errorGroups: (limit, examples) => {
      const groups: { -readonly [K in keyof ErrorGroup]: ErrorGroup[K] }[] = [];
      if (limit <= 0) return groups;
      for (const row of sql.errorGroups.iterate({ examples: Math.max(1, examples) })) {
        const last = groups.at(-1);
        const example = { bucket: row.bucket, key: row.key, attempts: row.attempts, error: row.error };
        if (last !== undefined && last.state === row.state && last.code === row.code && last.message === row.message) {
          last.examples = [...last.examples, example];
          continue;
        }
        if (groups.length === limit) break;
        groups.push({
          state: row.state,
          code: row.code,
          message: row.message,
          objects: row.n,
          latestAt: row.latest,
          examples: [example],
        });
      }
      return groups;
    },
    settledCounts: () => {
      const counts = { vanished: { objects: 0, bytes: 0 }, forgotten: { objects: 0, bytes: 0 } };
      for (const row of sql.settled.all()) counts[row.state] = { objects: row.objects, bytes: row.bytes };
      return counts;
    },
    latestVanished: (limit) =>
      sql.latestVanished
        .all(limit)
        .map((r) => ({ bucket: r.bucket, key: r.key, size: r.size, firstSeenAt: r.first_seen_at, vanishedAt: r.vanished_at })),
    forgottenByReason: (limit, examples): ForgottenGroup[] =>
      sql.forgottenReasons.all(limit).map((r) => ({
        reason: r.reason,
        objects: r.n,
        bytes: r.bytes,
        latestAt: r.latest,
        examples: sql.forgottenExamples.all(r.reason, examples),
      })),
    relandings: () =>
      Object.fromEntries(LANDING_REASONS.map((reason) => [reason, meta.counter(relandingCounter(reason))])) as Record<
        LandingReason,
        number
      >,
  };
}
