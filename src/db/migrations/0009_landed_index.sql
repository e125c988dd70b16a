-- Landings by time, for what `status` reports of the last minutes and hour (count, bytes, rate,
-- lag percentiles) without reading every landed row.
CREATE INDEX objects_landed ON objects (landed_at) WHERE landed_at IS NOT NULL;
