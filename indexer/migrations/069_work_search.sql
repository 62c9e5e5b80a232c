-- The server's schema keeps the Explore page's search text in work_search, by triggers on works; when
-- it was created before this schema, its work_search_attach() attaches them now (see the server's
-- migration 124_work_search_table.sql, which takes the same lock).
SELECT pg_advisory_xact_lock(hashtextextended('work-search-attach', 0));
DO $$
BEGIN
  IF to_regprocedure('work_search_attach()') IS NOT NULL THEN
    PERFORM work_search_attach();
  END IF;
END $$;
