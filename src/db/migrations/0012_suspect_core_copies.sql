-- Suspect core copies are a property of the core key, not of one journal row: every version of an
-- object shares its core key under the default template, so a wrong copy that version A left is
-- at the key where B, and A again (a rollback, or A, B, A), land too. This table replaces the
-- per-row objects.suspect_core_key of 0010 (no longer read or written; its index is dropped).
-- A key stays here until a version lands at it; delete_failed tells `status` which keys may still
-- hold the wrong bytes (the DELETE of them failed or was cut off).
CREATE TABLE suspect_core_copies (
  core_key      TEXT PRIMARY KEY,
  bucket        TEXT NOT NULL,
  key           TEXT NOT NULL,
  object_id     INTEGER NOT NULL,
  marked_at     INTEGER NOT NULL,
  delete_failed INTEGER NOT NULL DEFAULT 1
);
INSERT OR REPLACE INTO suspect_core_copies (core_key, bucket, key, object_id, marked_at, delete_failed)
  SELECT suspect_core_key, bucket, key, id, updated_at, 1 FROM objects WHERE suspect_core_key IS NOT NULL;
DROP INDEX IF EXISTS objects_suspect_core_copy;
