-- Logs of followed contracts that could not be indexed: a known event whose data does not decode, or an
-- event whose rows PostgreSQL refused (or whose handler failed). They never block a range: the rest of
-- it commits, and they wait here, with the log as emitted, the error and the block, until an operator
-- re-applies them after a fix (`npm run quarantine -- --retry`). A reorg removes those of orphaned blocks.
CREATE TABLE indexer_quarantine (
  chain_id bigint NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  block_hash text NOT NULL,
  block_time timestamptz,
  tx_hash text NOT NULL,
  tx_index integer NOT NULL,
  contract text NOT NULL,
  contract_name text NOT NULL,
  event_name text NOT NULL,
  topics text[] NOT NULL,
  data bytea NOT NULL,
  reason text NOT NULL CHECK (reason IN ('undecodable', 'refused')),
  error text NOT NULL,
  error_code text,
  quarantined_at timestamptz NOT NULL,
  PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX indexer_quarantine_block_idx ON indexer_quarantine (block_number);

-- What readers (the API's readiness detail) may see of it.
CREATE VIEW quarantined_events AS
  SELECT chain_id, block_number, log_index, tx_hash, contract, contract_name, event_name, reason, error_code,
         quarantined_at
    FROM indexer_quarantine;
