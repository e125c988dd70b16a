-- Adoption: the first scan pass of a target (bucket, prefix) with no completed pass in this journal
-- (a new journal, a reinstalled site, a bucket newly in the config) first lists what the core holds
-- under the target's core-key prefix. An edge version the journal has never seen whose core copy
-- is proven to hold it is journaled done without being sent again (transfer/adopt.ts).
--   adoption_targets       targets whose first pass adopts, until that pass completes
--   adoption_core_objects  the core listing of such a target, page by page (millions of keys stay
--                          on disk, not in memory); listed anew by every process that continues the
--                          pass, dropped when it completes
CREATE TABLE adoption_targets (
  bucket     TEXT    NOT NULL,
  prefix     TEXT    NOT NULL,
  started_at INTEGER NOT NULL,
  PRIMARY KEY (bucket, prefix)
);
CREATE TABLE adoption_core_objects (
  bucket   TEXT    NOT NULL,
  prefix   TEXT    NOT NULL,
  core_key TEXT    NOT NULL,
  etag     TEXT    NOT NULL,
  size     INTEGER NOT NULL,
  PRIMARY KEY (bucket, prefix, core_key)
) WITHOUT ROWID;
-- A manifest batch of adopted objects: the journal that landed them listed them, so no file is
-- written for it (written_at is set at once) and the planner never takes them again.
ALTER TABLE manifest_batches ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0;
