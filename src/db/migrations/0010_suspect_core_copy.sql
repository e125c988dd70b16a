-- The core key where this version's attempt left, or may have left, a copy with wrong bytes: the
-- copy carries our lineage and SHA-256 (sent before the bytes are checked), so it proves nothing.
-- While it is set, no attempt takes a core copy for ours: the object is uploaded again. Cleared
-- when an upload of ours is confirmed, or when the DELETE of the wrong copy succeeds.
ALTER TABLE objects ADD COLUMN suspect_core_key TEXT;
