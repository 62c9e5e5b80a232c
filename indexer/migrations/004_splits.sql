-- Revenue splits created by the factory, what they received and what they paid out.

CREATE TABLE splits (
  split text PRIMARY KEY,
  created_by text NOT NULL,
  recipients text[] NOT NULL,
  shares_bps integer[] NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL
);
CREATE INDEX splits_recipients_idx ON splits USING gin (recipients);
CREATE INDEX splits_created_by_idx ON splits (created_by);
CREATE INDEX splits_block_idx ON splits (block_number);

CREATE TABLE split_receipts (
  split text NOT NULL,
  sender text NOT NULL,
  amount numeric(78, 0) NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX split_receipts_split_idx ON split_receipts (split, block_number);

CREATE TABLE split_payouts (
  split text NOT NULL,
  currency text NOT NULL,
  account text NOT NULL,
  amount numeric(78, 0) NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX split_payouts_split_idx ON split_payouts (split, block_number);
CREATE INDEX split_payouts_account_idx ON split_payouts (account, block_number);
