/**
 * The Journal over one SQLite file. Every statement is prepared once; every write that must be
 * atomic (a page of listing results, a landing, a failure with its backoff) is one transaction.
 * Nothing is cached in the heap: millions of rows stay on disk.
 */
import { sortKey, type ObjectState } from '../core/object-state.js';
import type { Clock } from '../ports/clock.js';
import { coerceError, type ErrorCode } from '../core/errors.js';
import type {
  BacklogRow,
  FailureFacts,
  Journal,
  JournalObject,
  LandedFacts,
  LandingStats,
  MultipartProgress,
  RetentionCandidate,
  RetentionCounts,
  RetentionOutcome,
  ScanCheckpoint,
  SeenDecision,
  SeenOutcome,
} from '../ports/journal.js';
import type { SourceObject } from '../ports/source-store.js';
import { openDatabase, journalError, type Db } from '../db/open-database.js';

interface ObjectRow {
  id: number;
  bucket: string;
  key: string;
  etag: string;
  size: number;
  mtime_ms: number;
  mtime_exact: number;
  version_id: string | null;
  state: JournalObject['state'];
  priority: number;
  attempts: number;
  deferrals: number;
  next_attempt_at: number;
  last_error_code: string | null;
  last_error: string | null;
  core_key: string | null;
  sha256: string | null;
  core_etag: string | null;
  core_size: number | null;
  detected_by: string;
  first_seen_at: number;
  landed_at: number | null;
  edge_retention?: string | null;
}

function toObject(row: ObjectRow): JournalObject {
  return {
    id: row.id,
    bucket: row.bucket,
    key: row.key,
    etag: row.etag,
    size: row.size,
    mtimeMs: row.mtime_ms,
    mtimeExact: row.mtime_exact !== 0,
    versionId: row.version_id,
    state: row.state,
    priority: row.priority,
    attempts: row.attempts,
    deferrals: row.deferrals,
    nextAttemptAt: row.next_attempt_at,
    lastErrorCode: row.last_error_code,
    lastError: row.last_error,
    coreKey: row.core_key,
    sha256: row.sha256,
    coreEtag: row.core_etag,
    coreSize: row.core_size,
    detectedBy: row.detected_by,
    firstSeenAt: row.first_seen_at,
    landedAt: row.landed_at,
  };
}

const MAX_ERROR_TEXT = 2000;
/** edge_expires_at of an object whose edge copy is never deleted. */
const NEVER = Number.MAX_SAFE_INTEGER;
const RETENTION_POLICY_META = 'edge_retention_policy';
/** Deletion requests (deletes: propagate) never follow an edge deletion that retention made. */
const NOT_REMOVED_BY_RETENTION = "(edge_retention IS NULL OR edge_retention NOT IN ('deleting', 'deleted'))";
const LANDING_BATCH = 64;
const LANDING_FLUSH_MS = 20;

export function openJournal(folder: string, clock: Clock, options: { readonly readonly?: boolean } = {}): Journal {
  const db = openDatabase(folder, options);
  return createJournal(db, clock, folder);
}

export function createJournal(db: Db, clock: Clock, folder = '(memory)'): Journal {
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
    newBatch: db.prepare<[number]>('INSERT INTO manifest_batches (created_at) VALUES (?)'),
    assignBatch: db.prepare<[number, number]>(
      `UPDATE objects SET manifest_batch = ?
       WHERE id IN (SELECT id FROM objects INDEXED BY objects_unlisted WHERE state = 'done' AND manifest_batch IS NULL ORDER BY id LIMIT ?)`,
    ),
    deleteBatch: db.prepare<[number]>('DELETE FROM manifest_batches WHERE id = ?'),
    unwrittenBatches: db.prepare<[], { id: number; created_at: number }>(
      'SELECT id, created_at FROM manifest_batches WHERE written_at IS NULL ORDER BY id',
    ),
    batchObjects: db.prepare<[number], ObjectRow>('SELECT * FROM objects WHERE manifest_batch = ? ORDER BY id'),
    batchWritten: db.prepare<[number, number]>('UPDATE manifest_batches SET written_at = ? WHERE id = ?'),
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
      { id: number; bucket: string; key: string; core_key: string; sha256: string | null; attempts: number }
    >('SELECT id, bucket, key, core_key, sha256, attempts FROM deletions WHERE done_at IS NULL ORDER BY id LIMIT ?'),
    finishDeletion: db.prepare<[number, string, string, number]>(
      'UPDATE deletions SET done_at = ?, outcome = ?, last_error = ? WHERE id = ?',
    ),
    failDeletion: db.prepare<[string, number]>('UPDATE deletions SET attempts = attempts + 1, last_error = ? WHERE id = ?'),
    startTransfer: db.prepare<[number, number]>(`UPDATE objects SET state = 'transferring', updated_at = ? WHERE id = ?`),
    landed: db.prepare<[string, string, string | null, number, number, number, number]>(
      `UPDATE objects SET state = 'done', core_key = ?, sha256 = ?, core_etag = ?, core_size = ?,
         landed_at = ?, updated_at = ?, last_error_code = NULL, last_error = NULL
       WHERE id = ?`,
    ),
    markSuspect: db.prepare<[string, string, string, number, number]>(
      `INSERT INTO suspect_core_copies (core_key, bucket, key, object_id, marked_at, delete_failed) VALUES (?, ?, ?, ?, ?, 1)
       ON CONFLICT (core_key) DO UPDATE SET bucket = excluded.bucket, key = excluded.key, object_id = excluded.object_id,
         marked_at = excluded.marked_at, delete_failed = 1`,
    ),
    suspectDeleted: db.prepare<[string]>('UPDATE suspect_core_copies SET delete_failed = 0 WHERE core_key = ?'),
    isSuspect: db.prepare<[string], { n: number }>('SELECT 1 AS n FROM suspect_core_copies WHERE core_key = ?'),
    clearSuspect: db.prepare<[string]>('DELETE FROM suspect_core_copies WHERE core_key = ?'),
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
    retryDead: db.prepare<[{ now: number; code: string | null }]>(
      `UPDATE objects SET state = 'queued', attempts = 0, deferrals = 0, next_attempt_at = 0, updated_at = @now
       WHERE state = 'dead' AND (@code IS NULL OR last_error_code = @code)`,
    ),
    multipart: db.prepare<[number], { upload_id: string; core_key: string; part_size: number; sha256: string; part_md5s: Buffer | null }>(
      'SELECT upload_id, core_key, part_size, sha256, part_md5s FROM multipart_uploads WHERE object_id = ?',
    ),
    parts: db.prepare<[number], { part_number: number; etag: string; size: number }>(
      'SELECT part_number, etag, size FROM multipart_parts WHERE object_id = ? ORDER BY part_number',
    ),
    startMultipart: db.prepare<[number, string, string, number, string, Buffer | null, number]>(
      `INSERT OR REPLACE INTO multipart_uploads (object_id, upload_id, core_key, part_size, sha256, part_md5s, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    recordPart: db.prepare<[number, number, string, number]>(
      'INSERT OR REPLACE INTO multipart_parts (object_id, part_number, etag, size) VALUES (?, ?, ?, ?)',
    ),
    forgetMultipart: db.prepare<[number]>('DELETE FROM multipart_uploads WHERE object_id = ?'),
    checkpoint: db.prepare<
      [string, string],
      { pass_started_at: number; start_after: string | null; objects_seen: number; completed_at: number | null }
    >('SELECT pass_started_at, start_after, objects_seen, completed_at FROM scan_checkpoints WHERE bucket = ? AND prefix = ?'),
    saveCheckpoint: db.prepare<[string, string, number, string | null, number, number | null]>(
      `INSERT OR REPLACE INTO scan_checkpoints (bucket, prefix, pass_started_at, start_after, objects_seen, completed_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
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
    countRunnable: db.prepare<[], { n: number }>(
      `SELECT count(*) AS n FROM objects WHERE state IN ('discovered', 'queued', 'transferring', 'failed')`,
    ),
    metaGet: db.prepare<[string], { value: string }>('SELECT value FROM agent_meta WHERE name = ?'),
    metaSet: db.prepare<[string, string]>('INSERT OR REPLACE INTO agent_meta (name, value) VALUES (?, ?)'),
    // A new policy re-plans, a page at a time, every object whose edge copy is still there.
    unplanRetention: db.prepare<[number]>(
      `UPDATE objects SET edge_expires_at = NULL
       WHERE id IN (SELECT id FROM objects INDEXED BY objects_edge_expiry
                    WHERE state = 'done' AND edge_expires_at IS NOT NULL AND (edge_retention IS NULL OR edge_retention = 'held') LIMIT ?)`,
    ),
    unplanned: db.prepare<[number], { id: number; bucket: string; key: string; mtime_ms: number; landed_at: number | null }>(
      `SELECT id, bucket, key, mtime_ms, landed_at FROM objects INDEXED BY objects_edge_expiry
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
    removedByRetention: db.prepare<[number], { retained: number }>(
      `SELECT coalesce(o.edge_retention IN ('deleting', 'deleted'), 0) AS retained
       FROM deletions d JOIN objects o ON o.id = d.object_id WHERE d.id = ?`,
    ),
    recordEdgeRetention: db.prepare<
      [{ retention: string | null; note: string; expires: number; deletedAt: number | null; now: number; id: number }]
    >(
      `UPDATE objects SET edge_retention = @retention, edge_retention_note = @note, edge_expires_at = @expires,
         edge_deleted_at = coalesce(@deletedAt, edge_deleted_at), updated_at = @now
       WHERE id = @id`,
    ),
    // The new need arises now: first_seen_at restarts, so the backlog's age is not the landing's.
    requeueMissing: db.prepare<[{ code: string; message: string; sortKey: number; now: number; id: number }]>(
      `UPDATE objects SET state = 'queued', attempts = 0, deferrals = 0, next_attempt_at = 0, sort_key = @sortKey,
         first_seen_at = @now, last_error_code = @code, last_error = @message, edge_expires_at = NULL, edge_retention = NULL,
         edge_retention_note = NULL, manifest_batch = NULL, landed_at = NULL, updated_at = @now
       WHERE id = @id AND state = 'done'`,
    ),
    // Deleted and kept rows only ever grow in number: they are counted as they are recorded.
    countMeta: db.prepare<[{ name: string; n: number }]>(
      `INSERT INTO agent_meta (name, value) VALUES (@name, @n)
       ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value`,
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
    suspectCoreCopies: db.prepare<[number], { bucket: string; key: string; state: string | null; core_key: string }>(
      `SELECT s.bucket, s.key, o.state, s.core_key FROM suspect_core_copies s LEFT JOIN objects o ON o.id = s.object_id
       WHERE s.delete_failed = 1 ORDER BY s.marked_at DESC LIMIT ?`,
    ),
    suspectCoreCopyCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM suspect_core_copies WHERE delete_failed = 1'),
    heldOnEdge: db.prepare<[number], { bucket: string; key: string; note: string | null }>(
      `SELECT bucket, key, edge_retention_note AS note FROM objects INDEXED BY objects_edge_retention
       WHERE edge_retention = 'held' ORDER BY updated_at DESC LIMIT ?`,
    ),
    latestAll: db.prepare<[], ObjectRow>(
      `SELECT o.* FROM objects o
       WHERE o.id = (SELECT max(i.id) FROM objects i WHERE i.bucket = o.bucket AND i.key = o.key)
       ORDER BY o.bucket, o.key`,
    ),
  };

  function guarded<T>(action: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw journalError(error, action, folder);
    }
  }

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
      sql.landed.run(facts.coreKey, facts.sha256, facts.coreEtag, facts.coreSize, at, at, id);
      sql.clearSuspect.run(facts.coreKey);
      sql.forgetMultipart.run(id);
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

  const journal: Journal = {
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
    markCoreCopySuspect: (object, coreKey) =>
      guarded('record a suspect core copy', () => {
        sql.markSuspect.run(coreKey, object.bucket, object.key, object.id, clock.now());
      }),
    markSuspectCopyDeleted: (coreKey) =>
      guarded('record a deleted core copy', () => {
        sql.suspectDeleted.run(coreKey);
      }),
    isCoreCopySuspect: (coreKey) => sql.isSuspect.get(coreKey) !== undefined,
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
    retryDead: (filter = {}) =>
      guarded('re-queue dead objects', () => sql.retryDead.run({ now: clock.now(), code: filter.code ?? null }).changes),

    multipart: (id): MultipartProgress | undefined => {
      const upload = sql.multipart.get(id);
      if (!upload) return undefined;
      const parts = new Map(sql.parts.all(id).map((p) => [p.part_number, { etag: p.etag, size: p.size }] as const));
      return {
        uploadId: upload.upload_id,
        coreKey: upload.core_key,
        partSize: upload.part_size,
        sha256: upload.sha256,
        ...(upload.part_md5s === null ? {} : { partMd5s: upload.part_md5s }),
        parts,
      };
    },
    startMultipart: (id, upload) =>
      guarded('record a multipart upload', () => {
        sql.startMultipart.run(id, upload.uploadId, upload.coreKey, upload.partSize, upload.sha256, upload.partMd5s ?? null, clock.now());
      }),
    recordPart: (id, partNumber, etag, size) =>
      guarded('record an uploaded part', () => {
        sql.recordPart.run(id, partNumber, etag, size);
      }),
    forgetMultipart: (id) =>
      guarded('forget a multipart upload', () => {
        sql.forgetMultipart.run(id);
      }),

    checkpoint: (bucket, prefix): ScanCheckpoint | undefined => {
      const row = sql.checkpoint.get(bucket, prefix);
      return row
        ? { passStartedAt: row.pass_started_at, startAfter: row.start_after, objectsSeen: row.objects_seen, completedAt: row.completed_at }
        : undefined;
    },
    saveCheckpoint: (bucket, prefix, c) =>
      guarded('save a scan checkpoint', () => {
        sql.saveCheckpoint.run(bucket, prefix, c.passStartedAt, c.startAfter, c.objectsSeen, c.completedAt);
      }),

    planManifestBatch: (limit) =>
      guarded('plan a manifest batch', () =>
        db.transaction((): number | undefined => {
          const batch = Number(sql.newBatch.run(clock.now()).lastInsertRowid);
          if (sql.assignBatch.run(batch, limit).changes > 0) return batch;
          sql.deleteBatch.run(batch);
          return undefined;
        })(),
      ),
    unwrittenManifestBatches: () => sql.unwrittenBatches.all().map((row) => ({ id: row.id, createdAt: row.created_at })),
    *manifestBatchObjects(batch) {
      for (const row of sql.batchObjects.iterate(batch)) yield toObject(row);
    },
    markManifestBatchWritten: (batch) =>
      guarded('record a written manifest', () => {
        sql.batchWritten.run(clock.now(), batch);
      }),
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
      sql.pendingDeletions
        .all(limit)
        .map((r) => ({ id: r.id, bucket: r.bucket, key: r.key, coreKey: r.core_key, sha256: r.sha256, attempts: r.attempts })),
    finishDeletion: (id, outcome, reason) =>
      guarded('record a deletion', () => {
        sql.finishDeletion.run(clock.now(), outcome, reason, id);
      }),
    failDeletion: (id, reason) =>
      guarded('record a failed deletion', () => {
        sql.failDeletion.run(reason.slice(0, MAX_ERROR_TEXT), id);
      }),
    planEdgeRetention: (policy, expiresAt, limit) =>
      guarded('plan edge retention', () => {
        if (sql.metaGet.get(RETENTION_POLICY_META)?.value !== policy) {
          // One page per call, like the planning below: the caller yields between calls.
          const unplanned = sql.unplanRetention.run(limit).changes;
          if (unplanned > 0) return unplanned;
          sql.metaSet.run(RETENTION_POLICY_META, policy);
        }
        const page = sql.unplanned.all(limit);
        db.transaction(() => {
          for (const row of page) {
            const at = expiresAt({ bucket: row.bucket, key: row.key, mtimeMs: row.mtime_ms, landedAt: row.landed_at ?? row.mtime_ms });
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
    removedByRetention: (deletionId) => (sql.removedByRetention.get(deletionId)?.retained ?? 0) !== 0,
    recordEdgeRetention: (id, result: RetentionOutcome) =>
      guarded('record an edge retention outcome', () => {
        const row = sql.get.get(id);
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
            sql.countMeta.run({ name: 'edge_deleted_objects', n: 1 });
            sql.countMeta.run({ name: 'edge_deleted_bytes', n: row.size });
          }
          if (result.outcome === 'kept') sql.countMeta.run({ name: 'edge_kept_objects', n: 1 });
        })();
      }),
    requeueMissing: (id, code: ErrorCode, message) =>
      guarded('re-queue an object', () => {
        const row = sql.get.get(id);
        if (row === undefined) return;
        const now = clock.now();
        sql.requeueMissing.run({ code, message: message.slice(0, MAX_ERROR_TEXT), sortKey: sortKey(row.priority, now), now, id });
      }),
    edgeRetentionCounts: (): RetentionCounts => {
      const meta = (name: string) => Number(sql.metaGet.get(name)?.value ?? 0);
      return {
        deleted: meta('edge_deleted_objects'),
        deletedBytes: meta('edge_deleted_bytes'),
        held: sql.heldCount.get()?.n ?? 0,
        kept: meta('edge_kept_objects'),
        scheduled: sql.retentionScheduled.get(NEVER)?.n ?? 0,
      };
    },
    removedFromEdge: (afterId, limit) => sql.removedFromEdge.all(afterId, limit).map(toObject),
    suspectCoreCopies: (limit) => ({
      objects: sql.suspectCoreCopyCount.get()!.n,
      latest: sql.suspectCoreCopies
        .all(limit)
        .map((r) => ({ bucket: r.bucket, key: r.key, state: (r.state ?? 'unknown') as ObjectState | 'unknown', coreKey: r.core_key })),
    }),
    heldOnEdge: (limit) => sql.heldOnEdge.all(limit).map((r) => ({ bucket: r.bucket, key: r.key, note: r.note ?? '' })),
    backlog: (): BacklogRow[] => sql.backlog.all(),
    oldestPendingSince: () => sql.oldestPending.get()?.since ?? undefined,
    landedSince: (since): LandingStats => {
      flushLandings();
      const stats = sql.landedStats.get(since)!;
      const at = (p: number) => (stats.n === 0 ? null : sql.landedLagAt.get(since, Math.min(stats.n - 1, Math.floor(p * stats.n)))!.lag);
      return { objects: stats.n, bytes: stats.bytes, lagP50Ms: at(0.5), lagP99Ms: at(0.99), lagMaxMs: stats.maxLag };
    },
    recentErrors: (limit) => sql.recentErrors.all(limit).map(toObject),
    countRunnable: () => sql.countRunnable.get()?.n ?? 0,
    nextAttemptAt: () => sql.nextAttemptAt.get()?.next ?? undefined,
    iterateLatest: function* () {
      for (const row of sql.latestAll.iterate()) yield toObject(row);
    },
    close: () => {
      if (db.open) {
        flushLandings();
        db.close();
      }
    },
  };
  // Every call but these sees the pending landings written first.
  const writeBehind = new Set<string>(['markLanded', 'flush', 'close']);
  for (const name of Object.keys(journal) as (keyof Journal)[]) {
    const method = journal[name].bind(journal) as (...args: unknown[]) => unknown;
    if (writeBehind.has(name)) continue;
    (journal as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (flushError !== undefined) throw coerceError(flushError);
      if (pendingLandings.length > 0) flushLandings();
      return method(...args);
    };
  }
  return journal;
}
