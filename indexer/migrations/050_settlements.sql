-- Card revenue paid on chain by PayoutSettlement (SettlementPaid): one row per settlement and one per payee
-- it paid. Each settlement id is paid once on chain, and every row is appended by one event, so a reorg
-- deletes the rows above the fork by block_number. Part of the published surface: the API reads both to
-- reconcile its payout ledger. settlement_id is the bytes32 as 0x-prefixed lower-case hex, addresses are
-- lower-case. payment_refs holds every card payment reference the event names, however many (the raw
-- event log keeps only the first 256): they are what the ledger reconciles by, only the settler can
-- emit them, and their number is bounded by a block's gas (about 800 gas each, so ~37,000 per 30M gas).

CREATE TABLE settlements_paid (
  settlement_id text PRIMARY KEY,
  treasury text NOT NULL,
  total numeric(78, 0) NOT NULL,
  payment_refs text[] NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL
);
CREATE INDEX settlements_paid_block_idx ON settlements_paid (block_number);

CREATE TABLE settlement_payments (
  settlement_id text NOT NULL,
  payee text NOT NULL,
  amount numeric(78, 0) NOT NULL,
  treasury text NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (settlement_id, payee)
);
CREATE INDEX settlement_payments_payee_idx ON settlement_payments (payee);
CREATE INDEX settlement_payments_block_idx ON settlement_payments (block_number);
