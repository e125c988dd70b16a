/**
 * Migration 0014 rebuilds the objects table (new states need a new CHECK). A journal created at
 * migration 0013, with rows in every state, multipart progress, a deletion request, manifest
 * batches and suspect copies, must come out of it with every row, id and column intact, every
 * index back, foreign keys still pointing at objects (and enforced), and its objects that died of
 * TRIB_ERR_SOURCE_GONE vanished.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

import { openDatabase } from '../../../src/db/open-database.js';
import { openJournal } from '../../../src/journal/open-journal.js';
import { FakeClock } from '../../helpers/fakes.js';
import { readJournal } from '../../helpers/journal-db.js';
import { tempDir } from '../../helpers/temp-dir.js';

const migrations = fileURLToPath(new URL('../../../src/db/migrations/', import.meta.url));

/** A journal as a Tributary that knew migrations up to 0013 left it. */
function journalAt0013(folder: string): Database.Database {
  const db = new Database(join(folder, 'journal.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const names = readdirSync(migrations)
    .filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name) && name < '0014')
    .sort();
  assert.equal(names.length, 13);
  for (const name of names) {
    db.exec(readFileSync(join(migrations, name), 'utf8'));
    db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, 1);
  }
  return db;
}

const STATES_0013 = ['discovered', 'queued', 'transferring', 'done', 'failed', 'dead', 'superseded', 'skipped'];

function seed(db: Database.Database): void {
  db.prepare('INSERT INTO manifest_batches (id, created_at, written_at, adopted) VALUES (7, 1000, 2000, 0), (8, 3000, NULL, 1)').run();
  const insert = db.prepare(
    `INSERT INTO objects (id, bucket, key, etag, size, mtime_ms, version_id, state, priority, sort_key, attempts, deferrals,
       next_attempt_at, last_error_code, last_error, core_key, sha256, core_etag, core_size, detected_by, first_seen_at, landed_at,
       updated_at, mtime_exact, manifest_batch, seen_pass, edge_expires_at, edge_retention, edge_retention_note, edge_deleted_at,
       suspect_core_key)
     VALUES (@id, 'edge', @key, @etag, @size, @mtime, @version, @state, @priority, @sortKey, @attempts, @deferrals, @next, @code, @error,
       @coreKey, @sha, @coreEtag, @coreSize, @detectedBy, @firstSeen, @landed, @updated, @exact, @batch, @seenPass, @expires, @retention,
       @note, @deletedAt, @suspect)`,
  );
  // Ids with gaps: they must be kept as they are (foreign keys and manifests name them).
  let id = 10;
  for (const state of STATES_0013) {
    id += 3;
    const done = state === 'done';
    insert.run({
      id,
      key: `${state}.bin`,
      etag: `etag-${state}`,
      size: id * 100,
      mtime: 1_700_000_000_000 + id,
      version: state === 'queued' ? 'v-1' : null,
      state,
      priority: id % 4,
      sortKey: 5000 + id,
      attempts: state === 'failed' || state === 'dead' ? 3 : 0,
      deferrals: state === 'queued' ? 2 : 0,
      next: state === 'failed' ? 9_999 : 0,
      code: state === 'failed' || state === 'dead' ? 'TRIB_ERR_CORE_ACCESS_DENIED' : null,
      error: state === 'failed' || state === 'dead' ? `core PUT site/edge/${state}.bin: access denied` : null,
      coreKey: done ? 'site/edge/done.bin' : null,
      sha: done ? 'a'.repeat(64) : null,
      coreEtag: done ? 'core-etag' : null,
      coreSize: done ? id * 100 : null,
      detectedBy: state === 'queued' ? 'event' : 'scan',
      firstSeen: 100 + id,
      landed: done ? 200 + id : null,
      updated: 300 + id,
      exact: state === 'queued' ? 0 : 1,
      batch: done ? 7 : null,
      seenPass: done ? 55 : null,
      expires: done ? 777 : null,
      retention: done ? 'held' : null,
      note: done ? 'the core copy differs' : null,
      deletedAt: null,
      suspect: state === 'superseded' ? 'site/edge/superseded.bin' : null,
    });
  }
  // An adopted row, and the two objects that died because the edge no longer had them.
  insert.run({
    id: 50,
    key: 'adopted.bin',
    etag: 'etag-adopted',
    size: 5,
    mtime: 1,
    version: null,
    state: 'done',
    priority: 2,
    sortKey: 1,
    attempts: 0,
    deferrals: 0,
    next: 0,
    code: null,
    error: null,
    coreKey: 'site/edge/adopted.bin',
    sha: null,
    coreEtag: 'etag-adopted',
    coreSize: 5,
    detectedBy: 'scan',
    firstSeen: 1,
    landed: null,
    updated: 1,
    exact: 1,
    batch: 8,
    seenPass: null,
    expires: null,
    retention: null,
    note: null,
    deletedAt: null,
    suspect: null,
  });
  for (const [gid, key] of [
    [60, 'gone-1.bin'],
    [61, 'gone-2.bin'],
  ] as const) {
    insert.run({
      id: gid,
      key,
      etag: `etag-${key}`,
      size: 9,
      mtime: 2,
      version: null,
      state: 'dead',
      priority: 2,
      sortKey: 2,
      attempts: 1,
      deferrals: 0,
      next: 0,
      code: 'TRIB_ERR_SOURCE_GONE',
      error: `edge edge/${key}: deleted before it was replicated`,
      coreKey: null,
      sha: null,
      coreEtag: null,
      coreSize: null,
      detectedBy: 'scan',
      firstSeen: 40,
      landed: null,
      updated: 4000 + gid,
      exact: 1,
      batch: null,
      seenPass: null,
      expires: null,
      retention: null,
      note: null,
      deletedAt: null,
      suspect: null,
    });
  }
  // Multipart progress of the transferring row (id 19), a deletion request for the done row (id 22).
  db.prepare(
    `INSERT INTO multipart_uploads (object_id, upload_id, core_key, part_size, sha256, created_at, part_md5s)
     VALUES (19, 'upload-19', 'site/edge/transferring.bin', 5242880, ?, 123, ?)`,
  ).run('b'.repeat(64), Buffer.alloc(32, 7));
  db.prepare(
    `INSERT INTO multipart_parts (object_id, part_number, etag, size) VALUES (19, 1, 'p1', 5242880), (19, 2, 'p2', 5242880)`,
  ).run();
  db.prepare(
    `INSERT INTO deletions (id, object_id, bucket, key, core_key, sha256, detected_by, requested_at)
     VALUES (3, 22, 'edge', 'done.bin', 'site/edge/done.bin', ?, 'scan', 999)`,
  ).run('a'.repeat(64));
  db.prepare(
    `INSERT INTO suspect_core_copies (core_key, bucket, key, object_id, marked_at, delete_failed) VALUES ('site/edge/x', 'edge', 'x', 31, 5, 1)`,
  ).run();
  db.prepare(
    `INSERT INTO scan_checkpoints (bucket, prefix, pass_started_at, start_after, objects_seen) VALUES ('edge', '', 10, 'k', 4)`,
  ).run();
  db.prepare(`INSERT INTO agent_meta (name, value) VALUES ('adopted_objects', '1'), ('edge_deleted_objects', '2')`).run();
  db.prepare(`INSERT INTO adoption_targets (bucket, prefix, started_at) VALUES ('edge', 'p/', 3)`).run();
  db.prepare(
    `INSERT INTO adoption_core_objects (bucket, prefix, core_key, etag, size) VALUES ('edge', 'p/', 'site/edge/p/a', 'e', 1)`,
  ).run();
}

type Row = Record<string, unknown>;
const everything = (db: Database.Database, table: string, order: string) =>
  db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all() as Row[];
const OTHER_TABLES: [string, string][] = [
  ['manifest_batches', 'id'],
  ['multipart_uploads', 'object_id'],
  ['multipart_parts', 'object_id, part_number'],
  ['deletions', 'id'],
  ['suspect_core_copies', 'core_key'],
  ['scan_checkpoints', 'bucket, prefix'],
  ['agent_meta', 'name'],
  ['adoption_targets', 'bucket, prefix'],
  ['adoption_core_objects', 'bucket, prefix, core_key'],
];

test('migration 0014 keeps every row, id, column and index, and makes objects dead of TRIB_ERR_SOURCE_GONE vanished', (t) => {
  const folder = join(tempDir(t), 'journal');
  mkdirSync(folder);
  const old = journalAt0013(folder);
  seed(old);
  const before = {
    objects: everything(old, 'objects', 'id'),
    others: Object.fromEntries(OTHER_TABLES.map(([table, order]) => [table, everything(old, table, order)])),
    indexes: (
      old.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'objects' AND sql IS NOT NULL`).all() as {
        name: string;
        sql: string;
      }[]
    )
      .map((i) => i.name)
      .sort(),
  };
  assert.equal(before.objects.length, STATES_0013.length + 3);
  old.close();

  // Open as this version does: the migration runs, foreign keys are on again afterwards.
  const db = openDatabase(folder);
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again after the migration');
  assert.deepEqual(db.pragma('foreign_key_check'), []);
  db.close();

  readJournal(folder, (after) => {
    assert.ok(
      (after.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[])
        .map((r) => r.name)
        .includes('0014_vanished_forgotten_relandings.sql'),
    );
    const objects = everything(after, 'objects', 'id');
    assert.deepEqual(
      objects.map((o) => o['id']),
      before.objects.map((o) => o['id']),
      'every row, with its id',
    );
    for (const [i, row] of objects.entries()) {
      const was = before.objects[i]!;
      const gone = was['last_error_code'] === 'TRIB_ERR_SOURCE_GONE';
      // Every column of 0013, unchanged; the one change is the state of the objects the edge lost.
      for (const [column, value] of Object.entries(was)) {
        if (column === 'state') continue;
        assert.deepEqual(row[column], value, `${String(was['key'])}.${column}`);
      }
      assert.equal(row['state'], gone ? 'vanished' : was['state'], String(was['key']));
      assert.equal(row['vanished_at'], gone ? was['updated_at'] : null, `${String(was['key'])}.vanished_at`);
      assert.equal(row['forgotten_at'], null);
      assert.equal(row['forget_reason'], null);
      assert.equal(row['landing_reason'], null);
    }
    assert.deepEqual(
      objects.filter((o) => o['state'] === 'vanished').map((o) => o['key']),
      ['gone-1.bin', 'gone-2.bin'],
    );
    for (const [table, order] of OTHER_TABLES) assert.deepEqual(everything(after, table, order), before.others[table], table);
    const indexes = (
      after.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'objects' AND sql IS NOT NULL`).all() as {
        name: string;
      }[]
    ).map((i) => i.name);
    assert.deepEqual(indexes.sort(), [...before.indexes, 'objects_forgotten', 'objects_vanished'].sort());
    assert.deepEqual(
      after.prepare(`SELECT name FROM sqlite_master WHERE name LIKE 'objects_0014%'`).all().length,
      0,
      'no table left behind',
    );
  });

  // The foreign keys point at the rebuilt table, and are enforced: a deletion of an object with
  // multipart progress cascades into it; a reference to no object is refused.
  const check = new Database(join(folder, 'journal.db'));
  t.after(() => check.close());
  check.pragma('foreign_keys = ON');
  assert.throws(
    () =>
      check
        .prepare(`INSERT INTO deletions (object_id, bucket, key, core_key, detected_by, requested_at) VALUES (4242, 'e', 'k', 'c', 's', 1)`)
        .run(),
    /FOREIGN KEY constraint failed/,
  );
  assert.throws(() => check.prepare(`UPDATE objects SET state = 'bogus' WHERE id = 13`).run(), /CHECK constraint failed/);
  check.prepare(`UPDATE objects SET state = 'forgotten' WHERE id = 13`).run();

  // The journal reads what it held: multipart progress, the vanished objects with their times.
  const journal = openJournal(folder, new FakeClock());
  const progress = journal.multipart(19);
  assert.equal(progress?.uploadId, 'upload-19');
  assert.deepEqual([...(progress?.parts.keys() ?? [])], [1, 2]);
  assert.deepEqual(journal.settledCounts(), { vanished: { objects: 2, bytes: 18 }, forgotten: { objects: 1, bytes: 1300 } });
  assert.deepEqual(
    journal.latestVanished(5).map((v) => [v.key, v.firstSeenAt, v.vanishedAt]),
    [
      ['gone-2.bin', 40, 4061],
      ['gone-1.bin', 40, 4060],
    ],
  );
  journal.close();

  check.prepare('DELETE FROM objects WHERE id = 19').run();
  assert.equal((check.prepare('SELECT count(*) AS n FROM multipart_parts').get() as { n: number }).n, 0, 'ON DELETE CASCADE still applies');
});
