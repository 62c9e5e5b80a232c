-- A checkout holds its unit briefly (reserved_until, CHECKOUT_HOLD_SECONDS) while its payment
-- session stays open longer (payable_until, ORDER_TTL_SECONDS): a payment after the hold lapsed is
-- kept only if a unit is still free, so an unpaid checkout cannot keep an offer sold out.
ALTER TABLE orders ADD COLUMN payable_until timestamptz;
UPDATE orders SET payable_until = reserved_until;
ALTER TABLE orders ALTER COLUMN payable_until SET NOT NULL;

DROP INDEX orders_unpaid_idx;
CREATE INDEX orders_unpaid_idx ON orders (payable_until) WHERE status = 'created';
-- The live holds of one buyer, counted against CHECKOUT_HOLDS_PER_WALLET / _PER_IP.
CREATE INDEX orders_wallet_holds_idx ON orders (wallet, reserved_until) WHERE status = 'created';
CREATE INDEX orders_ip_holds_idx ON orders (ip, reserved_until) WHERE status = 'created';
