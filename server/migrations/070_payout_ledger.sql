-- The payout ledger: what card sales owe creators' splits, referrers and the platform, double entry,
-- in the payment's minor units, append-only; and the settlements that pay it on chain.

-- What the payment provider kept of a captured payment and of a chargeback, and how a dispute ended.
ALTER TABLE orders ADD COLUMN provider_fee bigint CHECK (provider_fee >= 0);
ALTER TABLE orders ADD COLUMN dispute_fee bigint CHECK (dispute_fee >= 0);
ALTER TABLE orders ADD COLUMN dispute_outcome text CHECK (dispute_outcome IN ('won', 'lost'));

-- The local checkout's payments keep what Stripe would report: the fee it kept at capture, and a dispute.
ALTER TABLE dev_payment_intents ADD COLUMN fee bigint CHECK (fee >= 0);
ALTER TABLE dev_payment_intents ADD COLUMN dispute text CHECK (dispute IN ('open', 'won', 'lost'));

-- One booking: a sale, a refund, a chargeback and its reversal when won, a settlement and its
-- cancellation. `key` makes each one unique ('sale:<order id>', 'settlement:<id>'…), so a replayed
-- webhook or a retried job books nothing twice.
CREATE TABLE ledger_transactions (
  id bigserial PRIMARY KEY,
  key text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (
    kind IN ('sale', 'refund', 'chargeback', 'chargeback_won', 'settlement', 'settlement_cancelled')
  ),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  order_id uuid,
  -- The card payment's mintForFiat reference (bytes32 hex), for bookings of a payment.
  payment_ref text,
  offer_id numeric(78, 0),
  settlement_id uuid,
  -- By the chain's clock, like license terms: the holdback of a settlement counts from it.
  booked_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind IN ('settlement', 'settlement_cancelled')) = (settlement_id IS NOT NULL)),
  CHECK ((kind IN ('settlement', 'settlement_cancelled')) <> (order_id IS NOT NULL))
);
CREATE INDEX ledger_transactions_order_idx ON ledger_transactions (order_id);
CREATE INDEX ledger_transactions_offer_idx ON ledger_transactions (offer_id, booked_at);

-- Its lines: a debit is positive, a credit negative; each transaction's lines add up to zero.
-- Accounts: 'provider:balance' (money held by the payment provider), 'provider:fees' (what it
-- kept), 'platform:revenue', 'treasury:settlements' (stablecoin paid out on chain), and
-- 'payee:<address>' (what a split or a referrer is owed: a credit balance).
CREATE TABLE ledger_lines (
  transaction_id bigint NOT NULL REFERENCES ledger_transactions (id),
  line smallint NOT NULL,
  account text NOT NULL CHECK (account ~ '^(provider:(balance|fees)|platform:revenue|treasury:settlements|payee:0x[0-9a-f]{40})$'),
  amount bigint NOT NULL CHECK (amount <> 0),
  PRIMARY KEY (transaction_id, line)
);
CREATE INDEX ledger_lines_account_idx ON ledger_lines (account, transaction_id);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the payout ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- Checked at commit, once per transaction booked: lines that do not balance roll the booking back.
CREATE FUNCTION ledger_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total numeric;
  lines integer;
BEGIN
  SELECT coalesce(sum(amount), 0), count(*) INTO total, lines
    FROM ledger_lines WHERE transaction_id = NEW.id;
  IF lines < 2 OR total <> 0 THEN
    RAISE EXCEPTION 'ledger transaction % (%) does not balance: % lines adding up to %', NEW.id, NEW.key, lines, total;
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_transactions_balanced AFTER INSERT ON ledger_transactions
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_balanced();

-- A payment of payees' settled balances on chain, in the settlement token (PayoutSettlement.settle).
-- prepared: booked, not sent yet; sent: its transaction is on its way; paid: mined successfully;
-- cancelled: refused on chain for good, its booking reversed.
CREATE TABLE settlements (
  id uuid PRIMARY KEY,
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  token text NOT NULL,
  -- Bookings up to this chain time were old enough to settle.
  cutoff timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('prepared', 'sent', 'paid', 'cancelled')),
  tx_hash text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settlements_open_idx ON settlements (created_at) WHERE status IN ('prepared', 'sent');

-- What one settlement pays one payee: in minor units (the ledger's) and in token units (the chain's).
CREATE TABLE settlement_payees (
  settlement_id uuid NOT NULL REFERENCES settlements (id),
  payee text NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  token_amount numeric(78, 0) NOT NULL CHECK (token_amount > 0),
  PRIMARY KEY (settlement_id, payee)
);
CREATE INDEX settlement_payees_payee_idx ON settlement_payees (payee);

-- The bookings a settlement covers, per payee: each payee's line of a booking is settled once (a
-- cancelled settlement's are freed again).
CREATE TABLE settlement_covers (
  transaction_id bigint NOT NULL REFERENCES ledger_transactions (id),
  payee text NOT NULL,
  settlement_id uuid NOT NULL REFERENCES settlements (id),
  PRIMARY KEY (transaction_id, payee)
);
CREATE INDEX settlement_covers_settlement_idx ON settlement_covers (settlement_id);
