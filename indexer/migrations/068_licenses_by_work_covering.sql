-- An evidence bundle lists every license of a work, in token order, with these columns: kept in the
-- index, they are read by an index-only scan of the work's entries (a few thousand pages for
-- 100,000 licenses) instead of one heap page per license, spread over the whole table.
DROP INDEX licenses_work_idx;
CREATE INDEX licenses_work_idx ON licenses (work_id, token_id)
  INCLUDE (offer_id, holder, expires_at, revoked, tx_hash, issued_at);
