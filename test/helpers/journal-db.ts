import { join } from 'node:path';

import Database from 'better-sqlite3';

export interface ObjectRowView {
  id: number;
  bucket: string;
  key: string;
  etag: string;
  state: string;
  attempts: number;
  deferrals: number;
  next_attempt_at: number;
  last_error_code: string | null;
  last_error: string | null;
  core_key: string | null;
  sha256: string | null;
  priority: number;
  size: number;
}

/** Reads the journal of a test agent directly (read-only), as an operator with sqlite3 would. */
export function readJournal<T>(journalDir: string, query: (db: Database.Database) => T): T {
  const db = new Database(join(journalDir, 'journal.db'), { readonly: true, fileMustExist: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

export function journalRows(journalDir: string): ObjectRowView[] {
  return readJournal(journalDir, (db) => db.prepare('SELECT * FROM objects ORDER BY id').all() as ObjectRowView[]);
}
