-- Sale windows (flash sales): for a while an offer sells by card at a lower price, a limited number
-- per wallet. Windows of one offer never overlap (the exclusion constraint, which needs btree_gist for
-- the offer's equality), so at any moment an offer has at most one sale.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE sales (
  id uuid PRIMARY KEY,
  offer_id numeric(78, 0) NOT NULL REFERENCES fiat_prices (offer_id),
  -- The sale price, in the minor units of the offer's card currency when the sale was set.
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  max_per_wallet integer NOT NULL CHECK (max_per_wallet > 0),
  max_total integer CHECK (max_total > 0),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at),
  CONSTRAINT sales_no_overlap EXCLUDE USING gist (offer_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
);

-- An order made during a sale: sale_amount is the sale's price it started from (the coupon's discount
-- comes off it), list_amount still the offer's card price.
ALTER TABLE orders ADD COLUMN sale_id uuid REFERENCES sales (id);
ALTER TABLE orders ADD COLUMN sale_amount bigint CHECK (sale_amount > 0);
ALTER TABLE orders ADD CONSTRAINT orders_sale_amount CHECK ((sale_id IS NULL) = (sale_amount IS NULL));
CREATE INDEX orders_sale_idx ON orders (sale_id, wallet) WHERE sale_id IS NOT NULL;
