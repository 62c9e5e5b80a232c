-- The Explore page finds works by any part of their title or description, in any language. Trigram
-- indexes answer a search of three characters or more. Chinese and Japanese run their words together
-- and many are two characters long, which give trigrams nothing to go on: the pairs of adjacent
-- characters in runs of those scripts (and Hangul) are kept and indexed, so a two-character search is
-- one lookup. The ranges below are the repository's CJK_PAIR.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX work_metadata_title_trgm ON work_metadata USING gin (lower(title) gin_trgm_ops);
CREATE INDEX work_metadata_description_trgm ON work_metadata USING gin (lower(description) gin_trgm_ops);
-- The planner reads the newest works first when a word is common and the indexes when it is rare; a
-- histogram of a hundred texts rarely holds a word found in a few percent of them, so these keep a
-- thousand.
ALTER INDEX work_metadata_title_trgm ALTER COLUMN 1 SET STATISTICS 1000;
ALTER INDEX work_metadata_description_trgm ALTER COLUMN 1 SET STATISTICS 1000;

CREATE FUNCTION cjk_pairs(t text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(m[1], i, 2)), '{}')
    FROM regexp_matches(t, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]{2,}', 'g') AS m,
         generate_series(1, char_length(m[1]) - 1) AS i
$$;
-- Stored, so that reading the newest works first tests a column rather than computing the pairs again.
ALTER TABLE work_metadata
  ADD COLUMN cjk_pairs text[] GENERATED ALWAYS AS (cjk_pairs(title || ' ' || description)) STORED;
CREATE INDEX work_metadata_cjk_pairs ON work_metadata USING gin (cjk_pairs);
