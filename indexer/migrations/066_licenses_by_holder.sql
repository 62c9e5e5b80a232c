-- A holder's licenses page lists them newest token first: read in that order from this index, a page
-- of twenty fetches twenty rows, however many licenses the holder has. (holder, work_id) stays for
-- verify, which asks for one work.
CREATE INDEX licenses_holder_token_idx ON licenses (holder, token_id);
