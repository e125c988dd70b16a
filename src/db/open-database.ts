/**
 * Opens the journal's SQLite file with the pragmas a crash-safe queue needs (WAL, synchronous
 * NORMAL, foreign keys, a busy timeout) and applies pending migrations in one transaction each.
 * Migrations are the numbered .sql files beside this module; applied ones are recorded in
 * `schema_migrations` and never run twice.
 *
 * A migration that rebuilds a table other tables point at (SQLite's 12-step ALTER procedure: a new
 * table, copy, drop, rename) must run with foreign keys off, or dropping the old table would
 * cascade into the rows that reference it (multipart progress, deletion requests). Such a file
 * starts with the line `-- migrate: foreign-keys off`. `PRAGMA foreign_keys` cannot change inside
 * a transaction, so it is turned off around that migration's transaction, and
 * `PRAGMA foreign_key_check` must find nothing before it commits (else it rolls back).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

import { TributaryError } from '../core/errors.js';

export type Db = Database.Database;

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

export const JOURNAL_FILE = 'journal.db';

function journalError(error: unknown, action: string, path: string): TributaryError {
  const code = (error as { code?: string }).code ?? '';
  const hint =
    code === 'SQLITE_FULL'
      ? ' (the disk is full)'
      : code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN'
        ? ' (the file or its folder is not writable)'
        : code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB'
          ? ' (the file is corrupt or not a journal)'
          : '';
  return new TributaryError('TRIB_ERR_JOURNAL_FAILED', `journal ${path}: cannot ${action}${hint}: ${(error as Error).message}`, {
    cause: error,
  });
}

export function openDatabase(folder: string, options: { readonly readonly?: boolean } = {}): Db {
  const path = join(folder, JOURNAL_FILE);
  let db: Db;
  try {
    if (!options.readonly) mkdirSync(folder, { recursive: true });
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
    }
  } catch (error) {
    throw journalError(error, 'open', path);
  }
  return db;
}

/** The first line of a migration that must run with foreign keys off (see the module comment). */
const FOREIGN_KEYS_OFF = /^-- migrate: foreign-keys off[ \t]*\r?\n/;

export function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set(
    db
      .prepare<[], { name: string }>('SELECT name FROM schema_migrations')
      .all()
      .map((row) => row.name),
  );
  const files = readdirSync(migrationsDir)
    .filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name))
    .sort();
  for (const name of files) {
    if (applied.has(name)) continue;
    const sql = readFileSync(join(migrationsDir, name), 'utf8');
    const foreignKeysOff = FOREIGN_KEYS_OFF.test(sql);
    const foreignKeysWere = db.pragma('foreign_keys', { simple: true }) as number;
    if (foreignKeysOff) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(sql);
        if (foreignKeysOff) {
          const violations = db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[];
          if (violations.length > 0) {
            const some = violations.slice(0, 3).map((v) => `${v.table} row ${v.rowid} -> ${v.parent}`);
            throw new Error(`migration ${name} would leave ${violations.length} broken foreign keys (${some.join(', ')}); rolled back`);
          }
        }
        db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, Date.now());
      })();
    } finally {
      if (foreignKeysOff) db.pragma(`foreign_keys = ${foreignKeysWere === 1 ? 'ON' : 'OFF'}`);
    }
  }
}

export { journalError };
