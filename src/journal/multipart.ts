/** Unfinished multipart uploads: the upload id, the hashing pass's part MD5s, and each part the core acknowledged. */
import type { Db } from '../db/open-database.js';
import type { Clock } from '../ports/clock.js';
import type { MultipartJournal, MultipartProgress } from '../ports/journal.js';
import type { Guarded } from './guard.js';

export function createMultipartJournal(db: Db, clock: Clock, guarded: Guarded): MultipartJournal {
  const sql = {
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
  };
  return {
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
  };
}
