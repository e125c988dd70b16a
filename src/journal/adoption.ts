/**
 * Adoption (ports/journal/adoption.ts): which targets' first passes adopt, their listings of the
 * core and the latest manifest line per core key (on disk: a site may hold millions of keys), and
 * the adopted versions, journaled done.
 */
import type { ManifestLanding } from '../core/manifest-line.js';
import type { Db } from '../db/open-database.js';
import type { Clock } from '../ports/clock.js';
import type { AdoptionJournal, AdoptionTotals, CoreListingEntry } from '../ports/journal.js';
import { sortKey } from '../schedule/policy/claim-order.js';
import type { Guarded } from './guard.js';
import type { MetaStore } from './meta.js';

const ADOPTED_OBJECTS = 'adopted_objects';
const ADOPTED_BYTES = 'adopted_bytes';

interface LandingRow {
  core_key: string;
  source_bucket: string;
  source_key: string;
  source_etag: string;
  source_mtime_ms: number;
  size: number;
  core_size: number;
  core_etag: string | null;
  sha256: string;
  landed_at_ms: number;
}

/** Only the landing's own fields: a parsed line carries more, which SQLite's named parameters refuse. */
function landingParams(l: ManifestLanding): ManifestLanding {
  return {
    coreKey: l.coreKey,
    sourceBucket: l.sourceBucket,
    sourceKey: l.sourceKey,
    sourceEtag: l.sourceEtag,
    sourceMtimeMs: l.sourceMtimeMs,
    size: l.size,
    coreSize: l.coreSize,
    coreEtag: l.coreEtag,
    sha256: l.sha256,
    landedAtMs: l.landedAtMs,
  };
}

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
    clearLandings: db.prepare('DELETE FROM adoption_manifest_lines'),
    // The latest line per core key wins; a line of the same time that says otherwise makes the key
    // `conflicting` (which of the two landed last cannot be told), until a later line comes.
    recordLanding: db.prepare<[ManifestLanding]>(
      `INSERT INTO adoption_manifest_lines (core_key, source_bucket, source_key, source_etag, source_mtime_ms, size, core_size,
         core_etag, sha256, landed_at_ms)
       VALUES (@coreKey, @sourceBucket, @sourceKey, @sourceEtag, @sourceMtimeMs, @size, @coreSize, @coreEtag, @sha256, @landedAtMs)
       ON CONFLICT (core_key) DO UPDATE SET
         source_bucket = excluded.source_bucket, source_key = excluded.source_key, source_etag = excluded.source_etag,
         source_mtime_ms = excluded.source_mtime_ms, size = excluded.size, core_size = excluded.core_size,
         core_etag = excluded.core_etag, sha256 = excluded.sha256, landed_at_ms = excluded.landed_at_ms, conflicting = 0
       WHERE excluded.landed_at_ms > adoption_manifest_lines.landed_at_ms`,
    ),
    markConflict: db.prepare<[ManifestLanding]>(
      `UPDATE adoption_manifest_lines SET conflicting = 1
       WHERE core_key = @coreKey AND landed_at_ms = @landedAtMs
         AND NOT (source_bucket = @sourceBucket AND source_key = @sourceKey AND source_etag = @sourceEtag
           AND source_mtime_ms = @sourceMtimeMs AND size = @size AND core_size = @coreSize AND sha256 = @sha256
           AND core_etag IS @coreEtag)`,
    ),
    landing: db.prepare<[string], LandingRow>('SELECT * FROM adoption_manifest_lines WHERE core_key = ? AND conflicting = 0'),
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
          adoptedBy: string;
          batch: number | null;
        },
      ]
    >(
      `INSERT INTO objects (bucket, key, etag, size, mtime_ms, mtime_exact, version_id, state, priority, sort_key, detected_by,
         first_seen_at, updated_at, core_key, sha256, core_etag, core_size, manifest_batch, adopted_by)
       SELECT @bucket, @key, @etag, @size, @mtime, 1, @versionId, 'done', @priority, @sortKey, 'scan',
         @now, @now, @coreKey, @sha256, @coreEtag, @coreSize, @batch, @adoptedBy
       WHERE NOT EXISTS (SELECT 1 FROM objects WHERE bucket = @bucket AND key = @key)`,
    ),
    dropEmptyBatch: db.prepare<[number]>('DELETE FROM manifest_batches WHERE id = ?'),
  };
  const adoptTx = db.transaction((versions: Parameters<AdoptionJournal['adopt']>[0]): AdoptionTotals => {
    const now = clock.now();
    // Versions a manifest lists already go into a batch that is never written; the others are left
    // to the manifest writer, which gives each a line marked adopted.
    const batch = versions.some((v) => !v.listInManifest) ? Number(sql.newBatch.run(now, now).lastInsertRowid) : undefined;
    let objects = 0;
    let inBatch = 0;
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
        adoptedBy: v.proof,
        batch: v.listInManifest ? null : (batch ?? null),
      }).changes;
      objects += inserted;
      if (!v.listInManifest) inBatch += inserted;
      bytes += inserted * v.object.size;
    }
    if (batch !== undefined && inBatch === 0) sql.dropEmptyBatch.run(batch);
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
    clearManifestLandings: () =>
      guarded('drop what the manifests said', () => {
        sql.clearLandings.run();
      }),
    recordManifestLandings: (landings) =>
      guarded('record what the manifests say', () =>
        db.transaction(() => {
          for (const landing of landings) {
            const params = landingParams(landing);
            if (sql.recordLanding.run(params).changes === 0) sql.markConflict.run(params);
          }
        })(),
      ),
    manifestLanding: (coreKey): ManifestLanding | undefined => {
      const row = sql.landing.get(coreKey);
      return row === undefined
        ? undefined
        : {
            coreKey: row.core_key,
            sourceBucket: row.source_bucket,
            sourceKey: row.source_key,
            sourceEtag: row.source_etag,
            sourceMtimeMs: row.source_mtime_ms,
            size: row.size,
            coreSize: row.core_size,
            coreEtag: row.core_etag,
            sha256: row.sha256,
            landedAtMs: row.landed_at_ms,
          };
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
