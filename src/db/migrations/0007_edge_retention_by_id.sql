-- The objects by retention state in id order, so that `verify --retained` pages through the
-- deleted ones without sorting them all for every page (held rows, few, are sorted when shown).
DROP INDEX objects_edge_retention;
CREATE INDEX objects_edge_retention ON objects (edge_retention, id) WHERE edge_retention IS NOT NULL;
