-- Adoption proves lineage through the site's manifests (transfer/adopt.ts): a target's first pass
-- reads every manifest file of the site once per process and keeps, per core key, the latest line
-- (by landed_at) under the prefix of a target that adopts. An edge version that line names, whose
-- core copy the listing shows as that line left it, is adopted without a request of its own; a
-- HEAD of the lineage is asked only where no line proves it.
--   adoption_manifest_lines  the latest landing at each core key (millions of lines stay on disk);
--                            conflicting: two lines of the same landed_at disagree, so neither
--                            proves anything. Read anew by every process that adopts, dropped
--                            when no target adopts any more.
--   objects.adopted_by       how an adopted version was proven: 'manifest' (a manifest line: it is
--                            listed already), 'head' (a HEAD of its lineage: it gets a manifest
--                            line of its own, marked adopted, unless `verify --repair` adopted it),
--                            'listing' (adopted before this migration, by the listing's MD5 when
--                            sha256 is NULL, else by a HEAD). NULL for everything this journal landed.
CREATE TABLE adoption_manifest_lines (
  core_key        TEXT    PRIMARY KEY,
  source_bucket   TEXT    NOT NULL,
  source_key      TEXT    NOT NULL,
  source_etag     TEXT    NOT NULL,
  source_mtime_ms INTEGER NOT NULL,
  size            INTEGER NOT NULL,
  core_size       INTEGER NOT NULL,
  core_etag       TEXT,
  sha256          TEXT    NOT NULL,
  landed_at_ms    INTEGER NOT NULL,
  conflicting     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

ALTER TABLE objects ADD COLUMN adopted_by TEXT CHECK (adopted_by IN ('listing', 'manifest', 'head'));
UPDATE objects SET adopted_by = 'listing'
  WHERE manifest_batch IN (SELECT id FROM manifest_batches WHERE adopted = 1);
