-- The journal: every source object version seen, its replication state, and the progress of
-- unfinished multipart uploads. Append-only migrations: never edit this file after release.

CREATE TABLE objects (
  id              INTEGER PRIMARY KEY,
  bucket          TEXT    NOT NULL,
  key             TEXT    NOT NULL,
  etag            TEXT    NOT NULL,
  size            INTEGER NOT NULL,
  mtime_ms        INTEGER NOT NULL,
  version_id      TEXT,
  state           TEXT    NOT NULL CHECK (state IN
                    ('discovered', 'queued', 'transferring', 'done', 'failed', 'dead', 'superseded', 'skipped')),
  priority        INTEGER NOT NULL DEFAULT 2,   -- 0 critical, 1 high, 2 normal, 3 bulk
  sort_key        INTEGER NOT NULL,             -- claim order: queued time + priority * ageing step
  attempts        INTEGER NOT NULL DEFAULT 0,   -- attempts that failed with an error of the object's own
  deferrals       INTEGER NOT NULL DEFAULT 0,   -- releases that did not consume an attempt (throttled, unreachable)
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error_code TEXT,
  last_error      TEXT,
  core_key        TEXT,
  sha256          TEXT,
  core_etag       TEXT,
  core_size       INTEGER,
  detected_by     TEXT    NOT NULL DEFAULT 'scan',
  first_seen_at   INTEGER NOT NULL,
  landed_at       INTEGER,
  updated_at      INTEGER NOT NULL,
  UNIQUE (bucket, key, etag, size, mtime_ms)
);

CREATE INDEX objects_runnable ON objects (sort_key) WHERE state IN ('queued', 'failed');
CREATE INDEX objects_by_state ON objects (state, priority);
CREATE INDEX objects_by_key ON objects (bucket, key, id);

CREATE TABLE multipart_uploads (
  object_id  INTEGER PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
  upload_id  TEXT    NOT NULL,
  core_key   TEXT    NOT NULL,
  part_size  INTEGER NOT NULL,
  sha256     TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE multipart_parts (
  object_id   INTEGER NOT NULL REFERENCES multipart_uploads (object_id) ON DELETE CASCADE,
  part_number INTEGER NOT NULL,
  etag        TEXT    NOT NULL,
  size        INTEGER NOT NULL,
  PRIMARY KEY (object_id, part_number)
) WITHOUT ROWID;

CREATE TABLE scan_checkpoints (
  bucket          TEXT    NOT NULL,
  prefix          TEXT    NOT NULL,
  pass_started_at INTEGER NOT NULL,
  start_after     TEXT,
  objects_seen    INTEGER NOT NULL DEFAULT 0,
  completed_at    INTEGER,
  PRIMARY KEY (bucket, prefix)
);

CREATE TABLE agent_meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
