-- Events announce an object with its event time, not its Last-Modified: such a row's mtime is
-- provisional (0) until a listing or a HEAD tells the real one, so that an event and a scan of the
-- same version are recognised as one version.
ALTER TABLE objects ADD COLUMN mtime_exact INTEGER NOT NULL DEFAULT 1;
