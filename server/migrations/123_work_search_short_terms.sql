-- A search of one or two characters gives trigrams nothing to go on: a term few works hold was found
-- by reading every work, newest first (seconds at a million works). Every character and every pair of
-- adjacent characters of each title and description, in any script, are indexed, so such a term is
-- one lookup. This replaces cjk_pairs, which kept the pairs of Chinese, Japanese and Korean runs only.
-- The pairs come from two passes of non-overlapping matches, from the first character and the second,
-- of the title and of the description apart: none spans the two, as LIKE on each does not. The body
-- calls built-in functions only: PostgreSQL 17 builds and maintains indexes with search_path set to
-- pg_catalog, where a function of this schema would not be found.
CREATE FUNCTION short_terms(title text, description text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT string_to_array(lower(title || description), NULL)
      || ARRAY(SELECT p[1]
                 FROM unnest(ARRAY[lower(title), substr(lower(title), 2),
                                   lower(description), substr(lower(description), 2)]) AS s(part),
                      regexp_matches(s.part, '..', 'g') AS p)
$$;
CREATE INDEX work_metadata_short_terms ON work_metadata USING gin (short_terms(title, description));

DROP INDEX work_metadata_cjk_pairs;
ALTER TABLE work_metadata DROP COLUMN cjk_pairs;
DROP FUNCTION cjk_pairs(text);
