-- The MD5 of every part as the hashing pass read it (16 bytes per part, in order): each part read
-- later for the upload must match, so a ranged GET that returns other bytes never reaches the core.
-- NULL for uploads started before this migration: their parts are not checked this way.
ALTER TABLE multipart_uploads ADD COLUMN part_md5s BLOB;
