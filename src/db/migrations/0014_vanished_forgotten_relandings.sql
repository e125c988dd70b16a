-- migrate: foreign-keys off
-- Two terminal states, and why a version lands again:
--   vanished        deleted at the edge before it could be read: the edge answered 404 and its
--                   listing no longer shows the key. Terminal, reported, not a failure; vanished_at
--                   is when the edge said it was gone (first_seen_at when it was seen).
--   forgotten       a dead version the operator acknowledged (`tributary forget`): forgotten_at
--                   and forget_reason say when and why; last_error_code and last_error keep its cause.
--   landing_reason  why the version is queued to land again, or was landed by a repair: 'repair'
--                   (`verify --repair`) or 'core-copy-missing' (edge retention found its core copy
--                   gone). Written in the manifest line of that landing and counted when it lands.
-- Adding states means a new CHECK on objects.state: the table is rebuilt (SQLite's 12-step ALTER
-- procedure) with every column and id kept, and every index of 0001-0013 recreated. Foreign keys
-- are off for this migration (open-database.ts), so dropping the old table cascades into nothing
-- (multipart_uploads, deletions); foreign_key_check runs before it commits.
-- Rows dead with TRIB_ERR_SOURCE_GONE were deleted at the edge before they were read: vanished,
-- since the time they were marked so.
CREATE TABLE objects_0014 (
  id                  INTEGER PRIMARY KEY,
  bucket              TEXT    NOT NULL,
  key                 TEXT    NOT NULL,
  etag                TEXT    NOT NULL,
  size                INTEGER NOT NULL,
  mtime_ms            INTEGER NOT NULL,
  version_id          TEXT,
  state               TEXT    NOT NULL CHECK (state IN
                        ('discovered', 'queued', 'transferring', 'done', 'failed', 'dead', 'superseded', 'skipped',
                         'vanished', 'forgotten')),
  priority            INTEGER NOT NULL DEFAULT 2,
  sort_key            INTEGER NOT NULL,
  attempts            INTEGER NOT NULL DEFAULT 0,
  deferrals           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     INTEGER NOT NULL DEFAULT 0,
  last_error_code     TEXT,
  last_error          TEXT,
  core_key            TEXT,
  sha256              TEXT,
  core_etag           TEXT,
  core_size           INTEGER,
  detected_by         TEXT    NOT NULL DEFAULT 'scan',
  first_seen_at       INTEGER NOT NULL,
  landed_at           INTEGER,
  updated_at          INTEGER NOT NULL,
  mtime_exact         INTEGER NOT NULL DEFAULT 1,
  manifest_batch      INTEGER REFERENCES manifest_batches (id),
  seen_pass           INTEGER,
  edge_expires_at     INTEGER,
  edge_retention      TEXT CHECK (edge_retention IN ('deleting', 'deleted', 'held', 'kept')),
  edge_retention_note TEXT,
  edge_deleted_at     INTEGER,
  suspect_core_key    TEXT,
  vanished_at         INTEGER,
  forgotten_at        INTEGER,
  forget_reason       TEXT,
  landing_reason      TEXT,
  UNIQUE (bucket, key, etag, size, mtime_ms)
);

INSERT INTO objects_0014 (
  id, bucket, key, etag, size, mtime_ms, version_id, state, priority, sort_key, attempts, deferrals, next_attempt_at,
  last_error_code, last_error, core_key, sha256, core_etag, core_size, detected_by, first_seen_at, landed_at, updated_at,
  mtime_exact, manifest_batch, seen_pass, edge_expires_at, edge_retention, edge_retention_note, edge_deleted_at,
  suspect_core_key, vanished_at)
SELECT
  id, bucket, key, etag, size, mtime_ms, version_id,
  CASE WHEN state = 'dead' AND last_error_code = 'TRIB_ERR_SOURCE_GONE' THEN 'vanished' ELSE state END,
  priority, sort_key, attempts, deferrals, next_attempt_at,
  last_error_code, last_error, core_key, sha256, core_etag, core_size, detected_by, first_seen_at, landed_at, updated_at,
  mtime_exact, manifest_batch, seen_pass, edge_expires_at, edge_retention, edge_retention_note, edge_deleted_at,
  suspect_core_key,
  CASE WHEN state = 'dead' AND last_error_code = 'TRIB_ERR_SOURCE_GONE' THEN updated_at END
FROM objects;

DROP TABLE objects;
ALTER TABLE objects_0014 RENAME TO objects;

-- Every index on objects, as the migrations before this one left them.
CREATE INDEX objects_runnable ON objects (sort_key) WHERE state IN ('queued', 'failed');
CREATE INDEX objects_by_state ON objects (state, priority);
CREATE INDEX objects_by_key ON objects (bucket, key, id);
CREATE INDEX objects_unlisted ON objects (id) WHERE state = 'done' AND manifest_batch IS NULL;
CREATE INDEX objects_by_batch ON objects (manifest_batch) WHERE manifest_batch IS NOT NULL;
CREATE INDEX objects_edge_expiry ON objects (edge_expires_at) WHERE state = 'done';
CREATE INDEX objects_edge_retention ON objects (edge_retention, id) WHERE edge_retention IS NOT NULL;
CREATE INDEX objects_landed ON objects (landed_at) WHERE landed_at IS NOT NULL;

-- For `status`: the latest vanished and forgotten objects, without a scan of the table.
CREATE INDEX objects_vanished ON objects (vanished_at) WHERE state = 'vanished';
CREATE INDEX objects_forgotten ON objects (forgotten_at) WHERE state = 'forgotten';
