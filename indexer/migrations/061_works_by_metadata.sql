-- Searches find metadata documents first (by title or description) and then the works registered
-- with them.
CREATE INDEX works_metadata_uri_idx ON works (metadata_uri);
