-- Indexer bookkeeping and the raw event log.

-- One row per indexed chain: the checkpoint (last fully indexed block) and the chain's heads.
CREATE TABLE indexer_state (
  chain_id bigint PRIMARY KEY,
  block_number bigint NOT NULL,
  block_hash text,
  head_block bigint NOT NULL DEFAULT 0,
  safe_block bigint NOT NULL DEFAULT 0,
  finalized_block bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Hashes of recent (not yet final) blocks, to find the fork point of a reorg.
CREATE TABLE indexer_blocks (
  block_number bigint PRIMARY KEY,
  block_hash text NOT NULL,
  parent_hash text NOT NULL
);

-- Prior images of current-state rows, one per row and block that changed it; a rollback to block F
-- restores, for each row, the image recorded by its first change above F (NULL: the row did not exist).
CREATE TABLE indexer_undo (
  block_number bigint NOT NULL,
  seq integer NOT NULL,
  table_name text NOT NULL,
  row_key jsonb NOT NULL,
  prior jsonb,
  PRIMARY KEY (block_number, seq)
);
CREATE INDEX indexer_undo_table_idx ON indexer_undo (table_name, block_number);

-- Every decoded event of a followed contract, as emitted.
CREATE TABLE chain_events (
  chain_id bigint NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  block_hash text NOT NULL,
  tx_hash text NOT NULL,
  tx_index integer NOT NULL,
  contract text NOT NULL,
  contract_name text NOT NULL,
  event_name text NOT NULL,
  args jsonb NOT NULL,
  PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX chain_events_contract_idx ON chain_events (contract, event_name, block_number);
CREATE INDEX chain_events_tx_idx ON chain_events (tx_hash);
