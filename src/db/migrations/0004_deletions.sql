-- deletes: propagate. A deletion at the edge (an ObjectRemoved event, or a key a completed scan
-- pass no longer lists) becomes a journaled request to delete the core copy, carried out only
-- when the edge confirms the object is gone and the core copy is the one that was replicated.
CREATE TABLE deletions (
  id           INTEGER PRIMARY KEY,
  object_id    INTEGER NOT NULL UNIQUE REFERENCES objects (id),
  bucket       TEXT    NOT NULL,
  key          TEXT    NOT NULL,
  core_key     TEXT    NOT NULL,
  sha256       TEXT,
  detected_by  TEXT    NOT NULL,
  requested_at INTEGER NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  done_at      INTEGER,
  outcome      TEXT,
  last_error   TEXT
);
CREATE INDEX deletions_pending ON deletions (id) WHERE done_at IS NULL;
-- The scan pass (its start time) that last listed the object; kept only with deletes: propagate.
ALTER TABLE objects ADD COLUMN seen_pass INTEGER;
