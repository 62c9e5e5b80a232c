-- A search of one or two characters gives trigrams nothing to go on: a term few works hold was found
-- by reading every work, newest first (seconds at a million works). Every character and every pair of
-- adjacent characters of each title and description, in any script, are indexed, so such a term is
-- one lookup. This replaces cjk_pairs, which kept the pairs of Chinese, Japanese and Korean runs only.
-- The pairs come from two passes of non-overlapping matches, from the first character and the second.
CREATE FUNCTION char_pairs(t text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ARRAY(SELECT p[1] FROM regexp_matches(t, '..', 'g') AS p
               UNION ALL SELECT p[1] FROM regexp_matches(substr(t, 2), '..', 'g') AS p)
$$;
-- Pairs of the title and of the description apart: none spans the two, as LIKE on each does not.
CREATE FUNCTION short_terms(title text, description text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT string_to_array(lower(title || description), NULL) || char_pairs(lower(title)) || char_pairs(lower(description))
$$;
CREATE INDEX work_metadata_short_terms ON work_metadata USING gin (short_terms(title, description));

DROP INDEX work_metadata_cjk_pairs;
ALTER TABLE work_metadata DROP COLUMN cjk_pairs;
DROP FUNCTION cjk_pairs(text);
