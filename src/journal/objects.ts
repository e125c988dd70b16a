/**
 * The catalog of object versions and their states: what the detectors record (recordSeen), what
 * the scheduler claims, and how each attempt ends. Landings are written behind, in groups (see
 * flushLandings); journal/open-journal.ts flushes them before any other call.
 */
import type { ErrorCode } from '../core/errors.js';
import type { LandingReason } from '../core/object-state.js';
import { sortKey } from '../schedule/policy/claim-order.js';
import type { Db } from '../db/open-database.js';
import type { Clock } from '../ports/clock.js';
import type { FailureFacts, JournalObject, LandedFacts, ObjectJournal, SeenDecision, SeenOutcome } from '../ports/journal.js';
import type { SourceObject } from '../ports/source-store.js';
import type { Guarded } from './guard.js';
import { relandingCounter, type MetaStore } from './meta.js';
import { MAX_ERROR_TEXT, toObject, type ObjectRow } from './rows.js';

const LANDING_BATCH = 64;
const LANDING_FLUSH_MS = 20;

export interface ObjectJournalInternals {
  /** Landings written behind and not yet on disk. */
  readonly pendingLandings: () => number;
  /** The error of a write-behind flush that had no caller to tell, if any: the next call throws it. */
  readonly flushError: () => unknown;
}

/**
 * `afterLanding` runs inside each landing's transaction: what other modules clear once a version
 * has landed (its key's suspect mark, its multipart progress). A landing with a reason (a
 * re-landing, a repair) is counted in agent_meta in the same transaction, so the count is the
 * journal's whichever process landed it.
 */
export function createObjectJournal(
  db: Db,
  clock: Clock,
  guarded: Guarded,
  meta: MetaStore,
  afterLanding: (id: number, coreKey: string) => void,
): ObjectJournal & ObjectJournalInternals {
  const sql = {
    latest: db.prepare<[string, string], ObjectRow>('SELECT * FROM objects WHERE bucket = ? AND key = ? ORDER BY id DESC LIMIT 1'),
    get: db.prepare<[number], ObjectRow>('SELECT * FROM objects WHERE id = ?'),
    insert: db.prepare<[string, string, string, number, number, number, string | null, string, number, number, string, number, number]>(
      `INSERT INTO objects (bucket, key, etag, size, mtime_ms, mtime_exact, version_id, state, priority, sort_key, detected_by, first_seen_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (bucket, key, etag, size, mtime_ms) DO NOTHING`,
    ),
    // An older row of the very same version (bucket, key, ETag, size, mtime): see moveTwinAside.
    twin: db.prepare<[string, string, string, number, number], { id: number }>(
      'SELECT id FROM objects WHERE bucket = ? AND key = ? AND etag = ? AND size = ? AND mtime_ms = ?',
    ),
    shiftMtime: db.prepare<[number, number, number]>('UPDATE objects SET mtime_ms = ?, updated_at = ? WHERE id = ?'),
    supersede: db.prepare<[number, string, string, number]>(
      `UPDATE objects SET state = 'superseded', updated_at = ?
       WHERE bucket = ? AND key = ? AND id < ? AND state IN ('discovered', 'queued', 'failed', 'dead')`,
    ),
    // Runnable objects in claim order. INDEXED BY: without it SQLite sorts every queued row.
    claimable: db.prepare<[{ now: number; limit: number }], ObjectRow>(
      `SELECT o.* FROM objects o INDEXED BY objects_runnable
       WHERE o.state IN ('queued', 'failed') AND o.next_attempt_at <= @now
         AND NOT EXISTS (SELECT 1 FROM objects b WHERE b.bucket = o.bucket AND b.key = o.key AND b.state = 'transferring')
       ORDER BY o.sort_key LIMIT @limit`,
    ),
    setExactMtime: db.prepare<[number, number, number]>(`UPDATE objects SET mtime_ms = ?, mtime_exact = 1, updated_at = ? WHERE id = ?`),
    startTransfer: db.prepare<[number, number]>(`UPDATE objects SET state = 'transferring', updated_at = ? WHERE id = ?`),
    // landing_reason stays: the manifest line of this landing, written later, carries it.
    landed: db.prepare<[string, string, string | null, number, number, number, number], { landing_reason: LandingReason | null }>(
      `UPDATE objects SET state = 'done', core_key = ?, sha256 = ?, core_etag = ?, core_size = ?,
         landed_at = ?, updated_at = ?, last_error_code = NULL, last_error = NULL, adopted_by = NULL
       WHERE id = ? RETURNING landing_reason`,
    ),
    failed: db.prepare<[{ state: string; consume: number; code: string; message: string; next: number; now: number; id: number }]>(
      `UPDATE objects SET state = @state, attempts = attempts + @consume, deferrals = deferrals + (1 - @consume),
         last_error_code = @code, last_error = @message, next_attempt_at = @next, updated_at = @now
       WHERE id = @id`,
    ),
    release: db.prepare<[{ next: number; code: string | null; message: string | null; now: number; id: number }]>(
      `UPDATE objects SET state = 'queued', next_attempt_at = @next, deferrals = deferrals + (@code IS NOT NULL),
         last_error_code = coalesce(@code, last_error_code), last_error = coalesce(@message, last_error), updated_at = @now
       WHERE id = @id AND state = 'transferring'`,
    ),
    superseded: db.prepare<[string, number, number]>(
      `UPDATE objects SET state = 'superseded', last_error_code = 'TRIB_ERR_SOURCE_CHANGED', last_error = ?, updated_at = ?
       WHERE id = ? AND state IN ('transferring', 'queued', 'failed', 'dead')`,
    ),
    nextAttemptAt: db.prepare<[], { next: number | null }>(
      `SELECT min(next_attempt_at) AS next FROM objects WHERE state IN ('queued', 'failed')`,
    ),
    // A crash may have come after the core took the object and before the landing was journaled:
    // the deferral and the code make the next attempt look in the core before uploading again.
    recoverInFlight: db.prepare<[number]>(
      `UPDATE objects SET state = 'queued', deferrals = deferrals + 1, last_error_code = 'TRIB_ERR_CANCELLED',
         last_error = 'interrupted: the agent stopped during the transfer', updated_at = ?
       WHERE state = 'transferring'`,
    ),
    vanished: db.prepare<[{ message: string; now: number; id: number }]>(
      `UPDATE objects SET state = 'vanished', vanished_at = @now, last_error_code = 'TRIB_ERR_SOURCE_GONE', last_error = @message,
         next_attempt_at = 0, updated_at = @now
       WHERE id = @id AND state IN ('queued', 'transferring', 'failed')`,
    ),
    // The edge lists a vanished version again: it was not gone after all.
    revive: db.prepare<[{ sortKey: number; now: number; id: number }]>(
      `UPDATE objects SET state = 'queued', vanished_at = NULL, attempts = 0, deferrals = 0, next_attempt_at = 0,
         sort_key = @sortKey, updated_at = @now
       WHERE id = @id AND state = 'vanished'`,
    ),
    forgetDead: db.prepare<[{ now: number; reason: string; code: string | null; bucket: string | null; key: string | null }]>(
      `UPDATE objects SET state = 'forgotten', forgotten_at = @now, forget_reason = @reason, updated_at = @now
       WHERE state = 'dead' AND (@code IS NULL OR last_error_code = @code)
         AND (@bucket IS NULL OR bucket = @bucket) AND (@key IS NULL OR key = @key)`,
    ),
    requeueForRepair: db.prepare<[{ sortKey: number; now: number; id: number }]>(
      `UPDATE objects SET state = 'queued', attempts = 0, deferrals = 0, next_attempt_at = 0, sort_key = @sortKey,
         landing_reason = 'repair', vanished_at = NULL, forgotten_at = NULL, forget_reason = NULL, manifest_batch = NULL,
         landed_at = NULL, updated_at = @now
       WHERE id = @id AND state IN ('dead', 'vanished', 'forgotten')`,
    ),
    setLandingReason: db.prepare<[{ reason: LandingReason; now: number; id: number }]>(
      `UPDATE objects SET landing_reason = @reason, updated_at = @now WHERE id = @id AND state IN ('queued', 'failed')`,
    ),
    retryDead: db.prepare<[{ now: number; code: string | null }]>(
      `UPDATE objects SET state = 'queued', attempts = 0, deferrals = 0, next_attempt_at = 0, updated_at = @now
       WHERE state = 'dead' AND (@code IS NULL OR last_error_code = @code)`,
    ),
    requeueMissing: db.prepare<[{ code: string; message: string; reason: LandingReason; sortKey: number; now: number; id: number }]>(
      `UPDATE objects SET state = 'queued', attempts = 0, deferrals = 0, next_attempt_at = 0, sort_key = @sortKey,
         first_seen_at = @now, last_error_code = @code, last_error = @message, edge_expires_at = NULL, edge_retention = NULL,
         edge_retention_note = NULL, manifest_batch = NULL, landed_at = NULL, landing_reason = @reason, updated_at = @now
       WHERE id = @id AND state = 'done'`,
    ),
    // Deleted and kept rows only ever grow in number: they are counted as they are recorded.
    countRunnable: db.prepare<[], { n: number }>(
      `SELECT count(*) AS n FROM objects WHERE state IN ('discovered', 'queued', 'transferring', 'failed')`,
    ),
    latestAll: db.prepare<[], ObjectRow>(
      `SELECT o.* FROM objects o
       WHERE o.id = (SELECT max(i.id) FROM objects i WHERE i.bucket = o.bucket AND i.key = o.key)
       ORDER BY o.bucket, o.key`,
    ),
  };

  const claimTx = db.transaction((now: number, limit: number): JournalObject[] =>
    sql.claimable.all({ now, limit }).map((row) => {
      sql.startTransfer.run(now, row.id);
      return toObject({ ...row, state: 'transferring' });
    }),
  );

  // Landings are written behind, in groups: one transaction per object costs more CPU than the
  // object's whole transfer when objects are small. A landing waits at most LANDING_FLUSH_MS; if
  // the process dies first, the object is simply copied again (the same bytes to the same key).
  // Every other journal call flushes first, so nothing in this process ever sees a stale state.
  let pendingLandings: { id: number; facts: LandedFacts; at: number }[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  let flushError: unknown;
  const landTx = db.transaction((landings: readonly { id: number; facts: LandedFacts; at: number }[]) => {
    for (const { id, facts, at } of landings) {
      const reason = sql.landed.get(facts.coreKey, facts.sha256, facts.coreEtag, facts.coreSize, at, at, id)?.landing_reason;
      if (reason !== undefined && reason !== null) meta.add(relandingCounter(reason), 1);
      afterLanding(id, facts.coreKey);
    }
  });
  function flushLandings(): void {
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    if (pendingLandings.length === 0) return;
    const batch = pendingLandings;
    pendingLandings = [];
    guarded('record landings', () => landTx(batch));
  }

  /**
   * A key written A, then B, then A again within one second of Last-Modified shows A's very
   * version (bucket, key, ETag, size, mtime) once more, and it is current again: it needs a row of
   * its own, the newest. The journal keeps one row per version (a UNIQUE constraint), so the
   * older twin is moved aside by a millisecond of its mtime, the only trace of the change: that
   * row is history (superseded, or landed and listed already), never the current version.
   */
  function twinOf(version: Pick<SourceObject, 'bucket' | 'key' | 'etag' | 'size'>, mtimeMs: number): { id: number } | undefined {
    return sql.twin.get(version.bucket, version.key, version.etag, version.size, mtimeMs);
  }

  function moveTwinAside(
    twin: { id: number } | undefined,
    version: Pick<SourceObject, 'bucket' | 'key' | 'etag' | 'size'>,
    mtimeMs: number,
    now: number,
  ): void {
    if (twin === undefined) return;
    let free = mtimeMs - 1;
    while (twinOf(version, free) !== undefined) free -= 1;
    sql.shiftMtime.run(free, now, twin.id);
  }

  const recordSeenTx = db.transaction(
    (objects: readonly SourceObject[], decide: (o: SourceObject) => SeenDecision, detectedBy: string): SeenOutcome[] => {
      const now = clock.now();
      return objects.map((object) => {
        const mtimeMs = object.mtime.getTime();
        const exact = object.mtimeExact !== false;
        const latest = sql.latest.get(object.bucket, object.key);
        if (latest && latest.etag === object.etag && latest.size === object.size) {
          // The edge shows a version that vanished (its GET was answered 404 and a listing missed
          // it): it was not gone after all, or is back; it is queued again rather than lost.
          if (latest.state === 'vanished' && (latest.mtime_ms === mtimeMs || !exact)) {
            sql.revive.run({ sortKey: sortKey(latest.priority, now), now, id: latest.id });
            return 'changed';
          }
          if (latest.mtime_ms === mtimeMs) return 'unchanged';
          // An event and a listing of the same version: the event's time is not Last-Modified.
          if (!exact) return 'unchanged';
          if (latest.mtime_exact === 0) {
            moveTwinAside(twinOf(object, mtimeMs), object, mtimeMs, now);
            sql.setExactMtime.run(mtimeMs, now, latest.id);
            return 'unchanged';
          }
        }
        const decision = decide(object);
        const insert = () =>
          sql.insert.run(
            object.bucket,
            object.key,
            object.etag,
            object.size,
            mtimeMs,
            exact ? 1 : 0,
            object.versionId ?? null,
            decision.excluded ? 'skipped' : 'queued',
            decision.priority,
            sortKey(decision.priority, now),
            detectedBy,
            now,
            now,
          );
        let result = insert();
        // Not the newest row, yet this very version is journaled: an older row of it, history now.
        // It is current again: A, B, A within one second, or B's version deleted on a versioned
        // edge (A's older Last-Modified is back). A listing that was merely stale cannot be told
        // from that here; it costs a wasted attempt, not a wrong copy: A's GET is conditional on
        // A's ETag, the edge answers with B, and B is journaled again as the newest row.
        if (result.changes === 0) {
          moveTwinAside(twinOf(object, mtimeMs), object, mtimeMs, now);
          result = insert();
        }
        if (result.changes === 0) return 'unchanged';
        sql.supersede.run(now, object.bucket, object.key, Number(result.lastInsertRowid));
        return latest ? 'changed' : 'new';
      });
    },
  );

  return {
    pendingLandings: () => pendingLandings.length,
    flushError: () => flushError,
    recordSeen: (objects, decide, detectedBy) => guarded('record objects', () => recordSeenTx(objects, decide, detectedBy)),
    claim: (limit) => guarded('claim objects', () => claimTx(clock.now(), limit)),
    get: (id) => {
      const row = sql.get.get(id);
      return row ? toObject(row) : undefined;
    },
    latest: (bucket, key) => {
      const row = sql.latest.get(bucket, key);
      return row ? toObject(row) : undefined;
    },
    markLanded: (id, facts: LandedFacts) => {
      pendingLandings.push({ id, facts, at: clock.now() });
      if (pendingLandings.length >= LANDING_BATCH) flushLandings();
      else
        flushTimer ??= setTimeout(() => {
          try {
            flushLandings();
          } catch (error) {
            flushError = error; // surfaced by the next journal call: a timer has no caller to tell
          }
        }, LANDING_FLUSH_MS);
    },
    flush: flushLandings,
    markFailed: (id, facts: FailureFacts) =>
      guarded('record a failure', () => {
        sql.failed.run({
          state: facts.outcome === 'dead' ? 'dead' : 'failed',
          consume: facts.consumeAttempt ? 1 : 0,
          code: facts.code,
          message: facts.message.slice(0, MAX_ERROR_TEXT),
          next: facts.nextAttemptAt,
          now: clock.now(),
          id,
        });
      }),
    setExactMtime: (id, mtimeMs) =>
      guarded('record a Last-Modified', () => {
        const row = sql.get.get(id);
        if (row === undefined || row.mtime_ms === mtimeMs) return true;
        return db.transaction(() => {
          // A newer row of this very version (A, B, A listed while A's event row was in flight)
          // is the current one: this row is history, and the newer one is not moved.
          const twin = twinOf(row, mtimeMs);
          if (twin !== undefined && twin.id > id) return false;
          moveTwinAside(twin, row, mtimeMs, clock.now());
          sql.setExactMtime.run(mtimeMs, clock.now(), id);
          return true;
        })();
      }),
    markSuperseded: (id, reason) =>
      guarded('record a superseded version', () => {
        sql.superseded.run(reason.slice(0, MAX_ERROR_TEXT), clock.now(), id);
      }),
    release: (id, options = {}) =>
      guarded('release an object', () => {
        sql.release.run({
          next: options.nextAttemptAt ?? 0,
          code: options.code ?? null,
          message: options.message?.slice(0, MAX_ERROR_TEXT) ?? null,
          now: clock.now(),
          id,
        });
      }),
    recoverInFlight: () => guarded('recover in-flight objects', () => sql.recoverInFlight.run(clock.now()).changes),
    markVanished: (id, message) =>
      guarded('record a vanished object', () => {
        sql.vanished.run({ message: message.slice(0, MAX_ERROR_TEXT), now: clock.now(), id });
      }),
    retryDead: (filter = {}) =>
      guarded('re-queue dead objects', () => sql.retryDead.run({ now: clock.now(), code: filter.code ?? null }).changes),
    forgetDead: (filter, reason) =>
      guarded(
        'forget dead objects',
        () =>
          sql.forgetDead.run({
            now: clock.now(),
            reason: reason.slice(0, MAX_ERROR_TEXT),
            code: filter.code ?? null,
            bucket: filter.bucket ?? null,
            key: filter.key ?? null,
          }).changes,
      ),
    requeueMissing: (id, code: ErrorCode, message, reason = 'core-copy-missing') =>
      guarded('re-queue an object', () => {
        const row = sql.get.get(id);
        if (row === undefined) return;
        const now = clock.now();
        sql.requeueMissing.run({ code, message: message.slice(0, MAX_ERROR_TEXT), reason, sortKey: sortKey(row.priority, now), now, id });
      }),
    requeueForRepair: (id) =>
      guarded('re-queue an object for a repair', () => {
        const row = sql.get.get(id);
        if (row === undefined) return false;
        const now = clock.now();
        return sql.requeueForRepair.run({ sortKey: sortKey(row.priority, now), now, id }).changes > 0;
      }),
    setLandingReason: (id, reason) =>
      guarded('record why an object lands', () => {
        sql.setLandingReason.run({ reason, now: clock.now(), id });
      }),
    countRunnable: () => sql.countRunnable.get()?.n ?? 0,
    nextAttemptAt: () => sql.nextAttemptAt.get()?.next ?? undefined,
    iterateLatest: function* () {
      for (const row of sql.latestAll.iterate()) yield toObject(row);
    },
  };
}
