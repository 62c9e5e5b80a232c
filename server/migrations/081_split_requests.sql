-- A revenue split a creator asked the relayer to create (EIP-712 CreateSplit, checked by the API:
-- the factory's createSplit is permissionless). One per split address: the address follows from the
-- recipients and shares, so asking again for the same split is the same request.
CREATE TABLE split_requests (
  split text PRIMARY KEY,
  creator text NOT NULL,
  recipients text[] NOT NULL,
  shares_bps integer[] NOT NULL,
  deadline numeric(78, 0) NOT NULL,
  signature text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'submitted', 'created', 'failed')),
  tx_hash text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX split_requests_creator_idx ON split_requests (creator, created_at);
