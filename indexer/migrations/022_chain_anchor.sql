-- The chain a database mirrors: the hash of the first block indexed (the deployment block by default),
-- recorded on first run. A node with another hash at that height serves another chain, and the indexer
-- stops instead of mixing the two.
ALTER TABLE indexer_state
  ADD COLUMN anchor_block bigint,
  ADD COLUMN anchor_hash text;
