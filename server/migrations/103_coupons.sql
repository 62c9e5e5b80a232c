-- Coupons creators give for their offers, and what each card order paid against its list price.
CREATE TABLE coupons (
  id uuid PRIMARY KEY,
  creator text NOT NULL,
  -- Matched case-insensitively; stored upper case.
  code text NOT NULL CHECK (code ~ '^[A-Z0-9_-]{3,40}$'),
  kind text NOT NULL CHECK (kind IN ('percent', 'fixed')),
  -- A percentage (1–100) or an amount in the currency's minor units.
  value bigint NOT NULL CHECK (value > 0),
  currency text CHECK (currency ~ '^[a-z]{3}$'),
  max_uses integer CHECK (max_uses > 0),
  max_uses_per_buyer integer CHECK (max_uses_per_buyer > 0),
  starts_at timestamptz NOT NULL DEFAULT now(),
  ends_at timestamptz,
  offer_ids numeric(78, 0)[] NOT NULL CHECK (cardinality(offer_ids) > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (creator, code),
  CHECK (kind <> 'percent' OR value <= 100),
  CHECK ((kind = 'fixed') = (currency IS NOT NULL)),
  CHECK (ends_at IS NULL OR ends_at > starts_at)
);

-- amount is what the buyer pays (and what the payout ledger books); list_amount the offer's card
-- price at checkout and discount the difference. Orders made before keep list_amount null.
ALTER TABLE orders ADD COLUMN list_amount bigint CHECK (list_amount > 0);
ALTER TABLE orders ADD COLUMN discount bigint NOT NULL DEFAULT 0 CHECK (discount >= 0);
ALTER TABLE orders ADD COLUMN coupon_id uuid REFERENCES coupons (id);
ALTER TABLE orders ADD COLUMN coupon_code text;
CREATE INDEX orders_coupon_idx ON orders (coupon_id, wallet) WHERE coupon_id IS NOT NULL;
