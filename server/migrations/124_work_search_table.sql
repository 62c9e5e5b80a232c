-- The Explore page's search reads a narrow table of its own: each work's title and description,
-- case-folded once when written, keyed by work id. Reading the newest works first walks its primary
-- key instead of looking up each work's metadata document by URI, and a candidate's text is compared
-- as stored instead of being lower-cased again (about 1 µs per description). Text and search terms
-- are folded alike, in PostgreSQL, upper- then lower-cased: Σ, σ and a final ς compare equal. Triggers
-- on works and work_metadata keep the table equal to their join, whichever is written first.
CREATE TABLE work_search (
  work_id numeric(78, 0) PRIMARY KEY,
  title text NOT NULL,
  description text NOT NULL
);
-- A search is one request's work: starting parallel workers (about 10 ms) costs more than they save.
ALTER TABLE work_search SET (parallel_workers = 0);
ALTER TABLE work_search ALTER COLUMN title SET STATISTICS 1000;
ALTER TABLE work_search ALTER COLUMN description SET STATISTICS 1000;

CREATE INDEX work_search_title_trgm ON work_search USING gin (title gin_trgm_ops);
CREATE INDEX work_search_description_trgm ON work_search USING gin (description gin_trgm_ops);
CREATE INDEX work_search_short_terms ON work_search USING gin (short_terms(title, description));
DROP INDEX work_metadata_title_trgm;
DROP INDEX work_metadata_description_trgm;
DROP INDEX work_metadata_short_terms;

-- Writes the folded text of the works `ids` whose metadata is known, in place of what was there.
CREATE FUNCTION work_search_write(ids numeric[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO work_search
  SELECT w.work_id, lower(upper(m.title)), lower(upper(m.description))
    FROM works w JOIN work_metadata m ON m.metadata_uri = w.metadata_uri
   WHERE w.work_id = ANY (ids)
  ON CONFLICT (work_id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description;
END $$;

-- A work written while its metadata is being written in another transaction (or the reverse) would
-- see neither: metadata takes this lock, and a work that found no metadata takes it and looks again,
-- so the later of the two sees the earlier once it has committed.
CREATE FUNCTION work_search_of_works() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids numeric[];
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM work_search s USING old_works o WHERE s.work_id = o.work_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    ids := ARRAY(SELECT work_id FROM new_works);
    PERFORM work_search_write(ids);
    IF EXISTS (SELECT 1 FROM unnest(ids) i WHERE NOT EXISTS (SELECT 1 FROM work_search s WHERE s.work_id = i)) THEN
      PERFORM pg_advisory_xact_lock(hashtextextended('work-search', 0));
      PERFORM work_search_write(ids);
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION work_search_of_metadata() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('work-search', 0));
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM work_search s USING old_metadata o, works w
     WHERE w.metadata_uri = o.metadata_uri AND s.work_id = w.work_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM work_search_write(ARRAY(SELECT w.work_id FROM new_metadata n JOIN works w ON w.metadata_uri = n.metadata_uri));
  END IF;
  RETURN NULL;
END $$;

-- works belongs to the indexer's schema, which may be created before or after this one: whichever
-- of the two migrations comes second attaches the triggers on both tables (the indexer's calls this
-- function when it exists) and fills the table. Both take this lock first, so that neither misses
-- the other's commit.
CREATE FUNCTION work_search_attach() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass('works') IS NULL
     OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('works') AND tgname = 'work_search_works_inserted') THEN
    RETURN;
  END IF;
  CREATE TRIGGER work_search_works_inserted AFTER INSERT ON works
    REFERENCING NEW TABLE AS new_works FOR EACH STATEMENT EXECUTE FUNCTION work_search_of_works();
  CREATE TRIGGER work_search_works_updated AFTER UPDATE ON works
    REFERENCING OLD TABLE AS old_works NEW TABLE AS new_works FOR EACH STATEMENT EXECUTE FUNCTION work_search_of_works();
  CREATE TRIGGER work_search_works_deleted AFTER DELETE ON works
    REFERENCING OLD TABLE AS old_works FOR EACH STATEMENT EXECUTE FUNCTION work_search_of_works();
  CREATE TRIGGER work_search_metadata_inserted AFTER INSERT ON work_metadata
    REFERENCING NEW TABLE AS new_metadata FOR EACH STATEMENT EXECUTE FUNCTION work_search_of_metadata();
  CREATE TRIGGER work_search_metadata_updated AFTER UPDATE ON work_metadata
    REFERENCING OLD TABLE AS old_metadata NEW TABLE AS new_metadata FOR EACH STATEMENT EXECUTE FUNCTION work_search_of_metadata();
  CREATE TRIGGER work_search_metadata_deleted AFTER DELETE ON work_metadata
    REFERENCING OLD TABLE AS old_metadata FOR EACH STATEMENT EXECUTE FUNCTION work_search_of_metadata();
  PERFORM work_search_write(ARRAY(SELECT work_id FROM works));
END $$;
SELECT pg_advisory_xact_lock(hashtextextended('work-search-attach', 0));
SELECT work_search_attach();
