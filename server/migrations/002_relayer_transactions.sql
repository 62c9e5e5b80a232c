-- Every transaction the platform's relayer signs, including replacements of stuck ones.
CREATE TABLE relayer_transactions (
  hash text PRIMARY KEY,
  sender text NOT NULL,
  nonce bigint NOT NULL,
  to_address text NOT NULL,
  data text NOT NULL,
  value numeric(78, 0) NOT NULL DEFAULT 0,
  gas_limit numeric(78, 0) NOT NULL,
  max_fee_per_gas numeric(78, 0) NOT NULL,
  max_priority_fee_per_gas numeric(78, 0) NOT NULL,
  purpose text NOT NULL,
  ref text NOT NULL,
  status text NOT NULL CHECK (status IN ('sent', 'mined', 'reverted', 'replaced')),
  replaces text REFERENCES relayer_transactions (hash),
  block_number bigint,
  sent_at timestamptz NOT NULL DEFAULT now(),
  settled_at timestamptz
);
-- At most one live transaction per nonce: a replacement retires the one it replaces first.
CREATE UNIQUE INDEX relayer_transactions_live_nonce ON relayer_transactions (sender, nonce) WHERE status = 'sent';
CREATE INDEX relayer_transactions_ref ON relayer_transactions (purpose, ref);
