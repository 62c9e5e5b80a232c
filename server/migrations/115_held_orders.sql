-- A card buyer without a wallet gives an email address instead: the paid order's license is held for
-- it ('held', its unit still counted as sold) and minted to whichever wallet claims it through a
-- one-time link mailed to that address. A buyer with a wallet may give an email address too.
ALTER TABLE orders ALTER COLUMN wallet DROP NOT NULL;
ALTER TABLE orders ADD COLUMN email text;
ALTER TABLE orders ADD CONSTRAINT orders_buyer_check CHECK (wallet IS NOT NULL OR email IS NOT NULL);
-- SHA-256 of the order secret: finds a card order by its buyer's email and secret in one probe.
ALTER TABLE orders ADD COLUMN lookup_hash bytea;
CREATE UNIQUE INDEX orders_lookup_idx ON orders (lookup_hash) WHERE lookup_hash IS NOT NULL;

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (
  status IN ('created', 'paid', 'held', 'minting', 'fulfilled', 'failed', 'expired', 'refunded', 'disputed')
);
DROP INDEX orders_holding_idx;
CREATE INDEX orders_holding_idx ON orders (offer_id) WHERE status IN ('created', 'paid', 'held', 'minting');
-- A wallet's order history, newest first.
CREATE INDEX orders_wallet_history_idx ON orders (wallet, created_at DESC, id DESC) WHERE wallet IS NOT NULL;

-- The claim link of a held order: only the SHA-256 of its random token is kept. Used once (claimed_at,
-- claimed_by), and not after expires_at.
CREATE TABLE order_claims (
  order_id uuid PRIMARY KEY REFERENCES orders (id),
  token_hash bytea NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  -- Links mailed so far: a new one replaces an expired unused link, as a mail of its own key.
  issued integer NOT NULL DEFAULT 1,
  claimed_by text,
  claimed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((claimed_by IS NULL) = (claimed_at IS NULL))
);
