/**
 * Adoption (ports/journal/adoption.ts): which targets' first passes adopt, their listings of the
 * core (on disk: a site may hold millions of keys), and the adopted versions, journaled done.
 */
import type { Db } from '../db/open-database.js';
import type { Clock } from '../ports/clock.js';
import type { AdoptionJournal, AdoptionTotals, CoreListingEntry } from '../ports/journal.js';
import { sortKey } from '../schedule/policy/claim-order.js';
import type { Guarded } from './guard.js';
import type { MetaStore } from './meta.js';

const ADOPTED_OBJECTS = 'adopted_objects';
const ADOPTED_BYTES = 'adopted_bytes';

export function createAdoptionJournal(db: Db, clock: Clock, guarded: Guarded, meta: MetaStore): AdoptionJournal {
  const sql = {
    start: db.prepare<[string, string, number]>('INSERT OR IGNORE INTO adoption_targets (bucket, prefix, started_at) VALUES (?, ?, ?)'),
    isAdopting: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM adoption_targets WHERE bucket = ? AND prefix = ?'),
    clearListing: db.prepare<[string, string]>('DELETE FROM adoption_core_objects WHERE bucket = ? AND prefix = ?'),
    recordListing: db.prepare<[string, string, string, string, number]>(
      'INSERT OR REPLACE INTO adoption_core_objects (bucket, prefix, core_key, etag, size) VALUES (?, ?, ?, ?, ?)',
    ),
    listed: db.prepare<[string, string, string], { core_key: string; etag: string; size: number }>(
      'SELECT core_key, etag, size FROM adoption_core_objects WHERE bucket = ? AND prefix = ? AND core_key = ?',
    ),
    finish: db.prepare<[string, string]>('DELETE FROM adoption_targets WHERE bucket = ? AND prefix = ?'),
    newBatch: db.prepare<[number, number]>('INSERT INTO manifest_batches (created_at, written_at, adopted) VALUES (?, ?, 1)'),
    // Only a key the journal has never seen: a row of it (an event, an older version) may be in
    // flight, and its landing would then overwrite what was adopted.
    adopt: db.prepare<
      [
        {
          bucket: string;
          key: string;
          etag: string;
          size: number;
          mtime: number;
          versionId: string | null;
          priority: number;
          sortKey: number;
          now: number;
          coreKey: string;
          sha256: string | null;
          coreEtag: string;
          coreSize: number;
          batch: number;
        },
      ]
    >(
      `INSERT INTO objects (bucket, key, etag, size, mtime_ms, mtime_exact, version_id, state, priority, sort_key, detected_by,
         first_seen_at, updated_at, core_key, sha256, core_etag, core_size, manifest_batch)
       SELECT @bucket, @key, @etag, @size, @mtime, 1, @versionId, 'done', @priority, @sortKey, 'scan',
         @now, @now, @coreKey, @sha256, @coreEtag, @coreSize, @batch
       WHERE NOT EXISTS (SELECT 1 FROM objects WHERE bucket = @bucket AND key = @key)`,
    ),
    dropEmptyBatch: db.prepare<[number]>('DELETE FROM manifest_batches WHERE id = ?'),
  };
  const adoptTx = db.transaction((versions: Parameters<AdoptionJournal['adopt']>[0]): AdoptionTotals => {
    const now = clock.now();
    const batch = Number(sql.newBatch.run(now, now).lastInsertRowid);
    let objects = 0;
    let bytes = 0;
    for (const v of versions) {
      const inserted = sql.adopt.run({
        bucket: v.object.bucket,
        key: v.object.key,
        etag: v.object.etag,
        size: v.object.size,
        mtime: v.object.mtime.getTime(),
        versionId: v.object.versionId ?? null,
        priority: v.priority,
        sortKey: sortKey(v.priority, now),
        now,
        coreKey: v.coreKey,
        sha256: v.sha256,
        coreEtag: v.coreEtag,
        coreSize: v.coreSize,
        batch,
      }).changes;
      objects += inserted;
      bytes += inserted * v.object.size;
    }
    if (objects === 0) sql.dropEmptyBatch.run(batch);
    meta.add(ADOPTED_OBJECTS, objects);
    meta.add(ADOPTED_BYTES, bytes);
    return { objects, bytes };
  });
  return {
    startAdoption: (bucket, prefix) =>
      guarded('record an adopting scan', () => {
        sql.start.run(bucket, prefix, clock.now());
      }),
    isAdopting: (bucket, prefix) => sql.isAdopting.get(bucket, prefix) !== undefined,
    clearCoreListing: (bucket, prefix) =>
      guarded('drop a core listing', () => {
        sql.clearListing.run(bucket, prefix);
      }),
    recordCoreListing: (bucket, prefix, entries) =>
      guarded('record a core listing', () =>
        db.transaction(() => {
          for (const e of entries) sql.recordListing.run(bucket, prefix, e.coreKey, e.etag, e.size);
        })(),
      ),
    coreListed: (bucket, prefix, coreKey): CoreListingEntry | undefined => {
      const row = sql.listed.get(bucket, prefix, coreKey);
      return row === undefined ? undefined : { coreKey: row.core_key, etag: row.etag, size: row.size };
    },
    adopt: (versions) => (versions.length === 0 ? { objects: 0, bytes: 0 } : guarded('record adopted objects', () => adoptTx(versions))),
    finishAdoption: (bucket, prefix) =>
      guarded('finish an adopting scan', () =>
        db.transaction(() => {
          sql.clearListing.run(bucket, prefix);
          sql.finish.run(bucket, prefix);
        })(),
      ),
    adoptedTotals: () => ({ objects: meta.counter(ADOPTED_OBJECTS), bytes: meta.counter(ADOPTED_BYTES) }),
  };
}
