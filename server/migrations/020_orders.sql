-- Commerce: offers creators publish through the API, their card prices, card orders and payment webhooks.

-- An offer its creator signed (EIP-712 CreateOffer) for the relayer to publish with createOfferFor.
CREATE TABLE offer_publications (
  id uuid PRIMARY KEY,
  creator text NOT NULL,
  nonce numeric(78, 0) NOT NULL,
  work_id numeric(78, 0) NOT NULL,
  params jsonb NOT NULL,
  deadline numeric(78, 0) NOT NULL,
  signature text NOT NULL,
  fiat_amount bigint CHECK (fiat_amount > 0),
  fiat_currency text CHECK (fiat_currency ~ '^[a-z]{3}$'),
  status text NOT NULL CHECK (status IN ('pending', 'submitted', 'published', 'failed')),
  tx_hash text,
  offer_id numeric(78, 0) UNIQUE,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (creator, nonce)
);

-- Card prices, in the currency's minor units (the on-chain price is in crypto). An offer without
-- one cannot be bought by card. The row is also what checkouts of the offer lock to reserve a unit.
CREATE TABLE fiat_prices (
  offer_id numeric(78, 0) PRIMARY KEY,
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A card purchase of one license. An order in 'created' holds one unit of the offer's supply until
-- reserved_until; 'paid' and 'minting' hold it until the mint is indexed (then the offer's sold count has it).
CREATE TABLE orders (
  id uuid PRIMARY KEY,
  offer_id numeric(78, 0) NOT NULL REFERENCES fiat_prices (offer_id),
  wallet text NOT NULL,
  referrer text,
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  status text NOT NULL CHECK (
    status IN ('created', 'paid', 'minting', 'fulfilled', 'failed', 'expired', 'refunded', 'disputed')
  ),
  failure_reason text,
  session_id text UNIQUE,
  checkout_url text,
  payment_intent text UNIQUE,
  -- keccak256 of the checkout session id: the mintForFiat reference that makes the mint happen once.
  payment_ref text UNIQUE,
  payment_status text NOT NULL DEFAULT 'none' CHECK (
    payment_status IN ('none', 'authorized', 'captured', 'canceled')
  ),
  token_id numeric(78, 0),
  mint_tx_hash text,
  mint_block bigint,
  revoke_reason text,
  revoke_tx_hash text,
  revoked_at timestamptz,
  reserved_until timestamptz NOT NULL,
  ip text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_offer_wallet_idx ON orders (offer_id, wallet);
CREATE INDEX orders_offer_ip_idx ON orders (offer_id, ip);
CREATE INDEX orders_holding_idx ON orders (offer_id) WHERE status IN ('created', 'paid', 'minting');
CREATE INDEX orders_unpaid_idx ON orders (reserved_until) WHERE status = 'created';

-- Every status an order went through, in order; the id orders the server-sent events.
CREATE TABLE order_events (
  id bigserial PRIMARY KEY,
  order_id uuid NOT NULL REFERENCES orders (id),
  status text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);

-- Payment webhook events received, by the provider's event id.
CREATE TABLE webhook_events (
  id text PRIMARY KEY,
  type text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);

-- Authorizations taken by the local checkout page (PAYMENTS_PROVIDER=dev), standing in for Stripe's.
CREATE TABLE dev_payment_intents (
  id text PRIMARY KEY,
  session_id text NOT NULL UNIQUE,
  amount bigint NOT NULL,
  currency text NOT NULL,
  status text NOT NULL CHECK (status IN ('requires_capture', 'succeeded', 'canceled')),
  refunded boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
