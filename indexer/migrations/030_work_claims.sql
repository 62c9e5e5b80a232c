-- Works are claims by commitment: a content hash may be claimed more than once, and every claim but
-- the earliest is superseded (superseded_by names the claim that holds the work). registered_at is
-- when the claim's id was reserved (its commitment's or batch's block), not when it was revealed.

DROP INDEX works_content_hash_idx;
CREATE INDEX works_content_hash_idx ON works (content_hash, work_id);

ALTER TABLE works
  ADD COLUMN registered_at numeric(20, 0),
  ADD COLUMN superseded_by numeric(78, 0);

ALTER TABLE batches ADD COLUMN first_work_id numeric(78, 0);
