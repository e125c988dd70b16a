/** The scan's checkpoint per bucket and prefix. */
import type { Db } from '../db/open-database.js';
import type { CheckpointJournal, ScanCheckpoint } from '../ports/journal.js';
import type { Guarded } from './guard.js';

export function createCheckpointJournal(db: Db, guarded: Guarded): CheckpointJournal {
  const sql = {
    checkpoint: db.prepare<
      [string, string],
      { pass_started_at: number; start_after: string | null; objects_seen: number; completed_at: number | null }
    >('SELECT pass_started_at, start_after, objects_seen, completed_at FROM scan_checkpoints WHERE bucket = ? AND prefix = ?'),
    saveCheckpoint: db.prepare<[string, string, number, string | null, number, number | null]>(
      `INSERT OR REPLACE INTO scan_checkpoints (bucket, prefix, pass_started_at, start_after, objects_seen, completed_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
  };
  return {
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
  };
}
