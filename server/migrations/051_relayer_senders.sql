-- One row per signing key, written only under its relayer lock. Each turn of the lock takes the
-- next fence; writes of a turn whose fence is no longer the latest (a holder that stalled past its
-- lease) change nothing. next_nonce is set in the statement that records a turn's transactions;
-- unsent_from stays set until their broadcast is confirmed, so the next turn after a crash knows to
-- broadcast them again before sending anything new. A NULL next_nonce is derived again from the
-- recorded transactions and the chain.
CREATE TABLE relayer_senders (
  sender text PRIMARY KEY,
  fence bigint NOT NULL,
  next_nonce bigint,
  unsent_from bigint
);
