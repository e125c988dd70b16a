-- Edge retention: an edge object may be deleted once it is done, its period has passed, and a HEAD
-- of its core copy confirms the recorded SHA-256. The plan (when it expires) is kept per row, so
-- a round reads only what is due. 9007199254740991 (Number.MAX_SAFE_INTEGER) means never.
--   edge_expires_at   when the edge copy may go; NULL until planned (re-planned when the policy changes)
--   edge_retention    NULL; 'deleting' (the DELETE may have been sent: deletion propagation must
--                     not treat the object's absence at the edge as a user's deletion); 'deleted';
--                     'held' (the core copy differs: kept at the edge, checked again later);
--                     'kept' (the edge holds another version now: this one is never deleted)
--   edge_retention_note  why, in words
ALTER TABLE objects ADD COLUMN edge_expires_at INTEGER;
ALTER TABLE objects ADD COLUMN edge_retention TEXT CHECK (edge_retention IN ('deleting', 'deleted', 'held', 'kept'));
ALTER TABLE objects ADD COLUMN edge_retention_note TEXT;
ALTER TABLE objects ADD COLUMN edge_deleted_at INTEGER;
CREATE INDEX objects_edge_expiry ON objects (edge_expires_at) WHERE state = 'done';
