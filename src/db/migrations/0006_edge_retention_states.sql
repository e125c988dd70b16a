-- Edge retention: the objects retention deleted, holds or keeps, counted for `tributary status`
-- and /status without reading every landed row.
CREATE INDEX objects_edge_retention ON objects (edge_retention, updated_at) WHERE edge_retention IS NOT NULL;
