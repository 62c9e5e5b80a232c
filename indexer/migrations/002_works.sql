-- Registered works, their versions and co-authors, and anchored Merkle batches.

CREATE TABLE works (
  work_id numeric(78, 0) PRIMARY KEY,
  content_hash text NOT NULL,
  creator text NOT NULL,
  parent_id numeric(78, 0),
  root_id numeric(78, 0) NOT NULL,
  version integer NOT NULL,
  cid text NOT NULL,
  metadata_uri text NOT NULL,
  co_authors text[] NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  updated_block bigint NOT NULL
);
CREATE UNIQUE INDEX works_content_hash_idx ON works (content_hash);
CREATE INDEX works_creator_idx ON works (creator, work_id);
CREATE INDEX works_root_idx ON works (root_id, version);
CREATE INDEX works_parent_idx ON works (parent_id);
CREATE INDEX works_co_authors_idx ON works USING gin (co_authors);

CREATE TABLE batches (
  batch_id numeric(78, 0) PRIMARY KEY,
  merkle_root text NOT NULL,
  submitter text NOT NULL,
  leaf_count numeric(78, 0) NOT NULL,
  manifest_cid text NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL
);
CREATE INDEX batches_merkle_root_idx ON batches (merkle_root);
CREATE INDEX batches_submitter_idx ON batches (submitter, batch_id);
CREATE INDEX batches_block_idx ON batches (block_number);
