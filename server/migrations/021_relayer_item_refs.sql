-- A transaction that serves several requests at once (card mints sent as one batch) lists each
-- request's reference, so a retried request finds the transaction already sent for it.
ALTER TABLE relayer_transactions ADD COLUMN item_refs text[] NOT NULL DEFAULT '{}';
CREATE INDEX relayer_transactions_item_refs ON relayer_transactions USING gin (item_refs);
