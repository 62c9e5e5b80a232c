-- Redemption codes sold with an offer (software keys, course access, game credits): each code is
-- held by at most one order, kept for it once the order is paid, and never given to another.

-- An offer's code stock: who may manage it (the offer's creator), when to warn them, and counters
-- so the warning needs no count of the codes.
CREATE TABLE code_stocks (
  offer_id numeric(78, 0) PRIMARY KEY,
  creator text NOT NULL,
  total integer NOT NULL DEFAULT 0 CHECK (total >= 0),
  sold integer NOT NULL DEFAULT 0 CHECK (sold >= 0 AND sold <= total),
  low_stock_at integer NOT NULL DEFAULT 0 CHECK (low_stock_at >= 0),
  -- Raised by every upload, so a restocked offer warns again when it runs low again.
  generation integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One upload (or generation) of codes.
CREATE TABLE code_batches (
  id uuid PRIMARY KEY,
  offer_id numeric(78, 0) NOT NULL REFERENCES code_stocks (offer_id),
  count integer NOT NULL CHECK (count > 0),
  source text NOT NULL CHECK (source IN ('upload', 'generated')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX code_batches_offer_idx ON code_batches (offer_id, created_at);

-- A code, sealed with AES-256-GCM (nonce ‖ ciphertext ‖ tag, bound to its offer and digest).
-- digest is an HMAC of the code under the server's code key: it finds a code and refuses
-- duplicates without the plaintext, and cannot be reversed by guessing codes without the key.
-- salt makes the code's Merkle leaf unguessable from its neighbours in a proof.
-- order_id is the order holding it; sold_at makes that final. An unsold code whose order lapsed
-- (expired, failed, or created past its hold) is free for the next checkout.
CREATE TABLE redemption_codes (
  id bigserial PRIMARY KEY,
  offer_id numeric(78, 0) NOT NULL REFERENCES code_stocks (offer_id),
  batch_id uuid NOT NULL REFERENCES code_batches (id),
  position integer NOT NULL,
  digest bytea NOT NULL,
  salt bytea NOT NULL,
  sealed bytea NOT NULL,
  order_id uuid UNIQUE REFERENCES orders (id),
  sold_at timestamptz,
  redeemed_at timestamptz,
  redeemed_by text,
  UNIQUE (offer_id, digest),
  UNIQUE (batch_id, position),
  CHECK (sold_at IS NULL OR order_id IS NOT NULL),
  CHECK (redeemed_at IS NULL OR sold_at IS NOT NULL)
);
CREATE INDEX redemption_codes_unsold_idx ON redemption_codes (offer_id, id) WHERE sold_at IS NULL;

-- Warnings to a creator that an offer's codes are running low, once per stock generation.
CREATE TABLE code_alerts (
  id bigserial PRIMARY KEY,
  offer_id numeric(78, 0) NOT NULL REFERENCES code_stocks (offer_id),
  creator text NOT NULL,
  generation integer NOT NULL,
  remaining integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (offer_id, generation)
);
CREATE INDEX code_alerts_creator_idx ON code_alerts (creator, id);
