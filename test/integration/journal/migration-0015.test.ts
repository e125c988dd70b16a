/**
 * Migration 0015: a journal that adopted objects before adoption read the manifests says so in
 * objects.adopted_by ('listing'), everything it landed stays unmarked, and the table of manifest
 * lines starts empty. adopted_by takes only the values the journal writes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

import { openDatabase } from '../../../src/db/open-database.js';
import { readJournal } from '../../helpers/journal-db.js';
import { tempDir } from '../../helpers/temp-dir.js';

const migrations = fileURLToPath(new URL('../../../src/db/migrations/', import.meta.url));

test('migration 0015 marks the versions adopted before it, and nothing else', (t) => {
  const folder = join(tempDir(t), 'journal');
  mkdirSync(folder);
  const old = new Database(join(folder, 'journal.db'));
  old.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const names = readdirSync(migrations)
    .filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name) && name < '0015')
    .sort();
  assert.equal(names.length, 14);
  for (const name of names) {
    old.pragma(`foreign_keys = ${name.startsWith('0014') ? 'OFF' : 'ON'}`);
    old.exec(readFileSync(join(migrations, name), 'utf8'));
    old.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, 1);
  }
  old.prepare('INSERT INTO manifest_batches (id, created_at, written_at, adopted) VALUES (1, 10, 20, 0), (2, 30, 30, 1)').run();
  const insert = old.prepare(
    `INSERT INTO objects (bucket, key, etag, size, mtime_ms, state, sort_key, first_seen_at, updated_at, core_key, sha256, manifest_batch)
     VALUES ('edge', ?, 'e', 1, 1, 'done', 0, 1, 1, ?, ?, ?)`,
  );
  insert.run('landed', 'site/edge/landed', 'a'.repeat(64), 1);
  insert.run('by-md5', 'site/edge/by-md5', null, 2);
  insert.run('by-head', 'site/edge/by-head', 'b'.repeat(64), 2);
  insert.run('unlisted', 'site/edge/unlisted', 'c'.repeat(64), null);
  old.close();

  openDatabase(folder).close();
  readJournal(folder, (db) => {
    assert.deepEqual(db.prepare('SELECT key, adopted_by FROM objects ORDER BY key').all(), [
      { key: 'by-head', adopted_by: 'listing' },
      { key: 'by-md5', adopted_by: 'listing' },
      { key: 'landed', adopted_by: null },
      { key: 'unlisted', adopted_by: null },
    ]);
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM adoption_manifest_lines').get(), { n: 0 });
  });
  const db = new Database(join(folder, 'journal.db'));
  t.after(() => db.close());
  assert.throws(() => db.prepare(`UPDATE objects SET adopted_by = 'guess' WHERE key = 'landed'`).run(), /CHECK constraint failed/);
});
