-- A referrer approval (or its withdrawal) an offer's creator signed (EIP-712 SetReferrer) for the
-- relayer to send with setReferrerFor. The nonce is the creator's, shared on chain with offer
-- publications; (creator, nonce) makes a request unique, so a resent signature is one request.
CREATE TABLE referrer_requests (
  id uuid PRIMARY KEY,
  creator text NOT NULL,
  nonce numeric(78, 0) NOT NULL,
  offer_id numeric(78, 0) NOT NULL,
  referrer text NOT NULL,
  approved boolean NOT NULL,
  deadline numeric(78, 0) NOT NULL,
  signature text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'submitted', 'confirmed', 'failed')),
  tx_hash text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (creator, nonce)
);
CREATE INDEX referrer_requests_offer_idx ON referrer_requests (offer_id, created_at);
