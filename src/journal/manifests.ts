/**
 * Manifest batches: a batch is planned in the journal (its objects get its id) before its files
 * are written, so a crash between the two rewrites the same files from the same rows.
 */
import type { Db } from '../db/open-database.js';
import type { Clock } from '../ports/clock.js';
import type { ManifestJournal } from '../ports/journal.js';
import type { Guarded } from './guard.js';
import { toObject, type ObjectRow } from './rows.js';

export function createManifestJournal(db: Db, clock: Clock, guarded: Guarded): ManifestJournal {
  const sql = {
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
  };
  return {
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
  };
}
