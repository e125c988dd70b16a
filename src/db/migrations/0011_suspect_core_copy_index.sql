-- For `status`: the few rows that mark a suspect core copy, without a scan of the table.
CREATE INDEX IF NOT EXISTS objects_suspect_core_copy ON objects (updated_at) WHERE suspect_core_key IS NOT NULL;
