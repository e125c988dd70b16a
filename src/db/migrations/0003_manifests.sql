-- Manifests: every landed object is listed once in an NDJSON manifest in the core. A batch is
-- planned in the journal (its objects get its id) before its files are written, so a crash
-- between the two rewrites the same files from the same rows: nothing lost, nothing listed twice.
CREATE TABLE manifest_batches (
  id         INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL,
  written_at INTEGER
);
ALTER TABLE objects ADD COLUMN manifest_batch INTEGER REFERENCES manifest_batches (id);
CREATE INDEX objects_unlisted ON objects (id) WHERE state = 'done' AND manifest_batch IS NULL;
CREATE INDEX objects_by_batch ON objects (manifest_batch) WHERE manifest_batch IS NOT NULL;
