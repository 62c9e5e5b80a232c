-- Refund requests of card orders: a buyer asks within the offer's refund window, the offer's
-- creator (or an admin) approves or declines with a reason, and an approval refunds through the
-- payment provider once, under the request's idempotency key.

-- How long after a card sale its buyer may ask for a refund, set by the offer's creator beside the
-- card price; null takes the platform's REFUND_WINDOW_SECONDS (which also caps it).
ALTER TABLE fiat_prices ADD COLUMN refund_window_seconds bigint CHECK (refund_window_seconds >= 0);

-- The statuses and their legal moves are in server/refunds/refund-status.ts.
CREATE TABLE refund_requests (
  id uuid PRIMARY KEY,
  order_id uuid NOT NULL REFERENCES orders (id),
  offer_id numeric(78, 0) NOT NULL,
  status text NOT NULL CHECK (status IN ('requested', 'approved', 'refunded', 'declined', 'cancelled')),
  reason text NOT NULL,
  -- Sent with the provider's refund: approving twice, or a retried job, refunds once.
  idempotency_key text NOT NULL UNIQUE,
  decision_reason text,
  decided_by text,
  decided_at timestamptz,
  refunded_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status IN ('approved', 'declined')) <= (decided_at IS NOT NULL))
);
-- One request per order, unless the buyer withdrew it (or a chargeback cancelled it).
CREATE UNIQUE INDEX refund_requests_order_idx ON refund_requests (order_id) WHERE status <> 'cancelled';
CREATE INDEX refund_requests_offer_idx ON refund_requests (offer_id, created_at DESC);
