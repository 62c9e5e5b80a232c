-- License offers, licenses with their renewals and transfers, revenue, card payments and withdrawals.

CREATE TABLE offers (
  offer_id numeric(78, 0) PRIMARY KEY,
  work_id numeric(78, 0) NOT NULL,
  creator text NOT NULL,
  currency text NOT NULL,
  price numeric(78, 0) NOT NULL,
  duration numeric(20, 0) NOT NULL,
  max_supply bigint NOT NULL,
  sold bigint NOT NULL,
  transferable boolean NOT NULL,
  commercial_use boolean NOT NULL,
  referrer_bps integer NOT NULL,
  royalty_bps integer NOT NULL,
  split text NOT NULL,
  territory text NOT NULL,
  active boolean NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  updated_block bigint NOT NULL
);
CREATE INDEX offers_work_idx ON offers (work_id, offer_id);
CREATE INDEX offers_creator_idx ON offers (creator, offer_id);

CREATE TABLE licenses (
  token_id numeric(78, 0) PRIMARY KEY,
  offer_id numeric(78, 0) NOT NULL,
  work_id numeric(78, 0) NOT NULL,
  holder text NOT NULL,
  payer text NOT NULL,
  payment_ref text,
  expires_at numeric(20, 0) NOT NULL,
  renewals integer NOT NULL,
  revoked boolean NOT NULL,
  revoked_by text,
  revoked_reason text,
  revoked_block bigint,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  updated_block bigint NOT NULL
);
CREATE INDEX licenses_holder_idx ON licenses (holder, work_id);
CREATE INDEX licenses_work_idx ON licenses (work_id, token_id);
CREATE INDEX licenses_offer_idx ON licenses (offer_id, token_id);

CREATE TABLE license_renewals (
  token_id numeric(78, 0) NOT NULL,
  payer text NOT NULL,
  expires_at numeric(20, 0) NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX license_renewals_token_idx ON license_renewals (token_id, block_number);

CREATE TABLE license_transfers (
  token_id numeric(78, 0) NOT NULL,
  from_address text NOT NULL,
  to_address text NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX license_transfers_token_idx ON license_transfers (token_id, block_number);

-- Licenses minted for off-chain (card) payments, by the payment reference the platform chose.
CREATE TABLE payments (
  payment_ref text PRIMARY KEY,
  token_id numeric(78, 0) NOT NULL,
  offer_id numeric(78, 0) NOT NULL,
  work_id numeric(78, 0) NOT NULL,
  holder text NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL
);
CREATE INDEX payments_block_idx ON payments (block_number);

CREATE TABLE revenue_payments (
  token_id numeric(78, 0) NOT NULL,
  currency text NOT NULL,
  split text NOT NULL,
  amount numeric(78, 0) NOT NULL,
  platform_fee numeric(78, 0) NOT NULL,
  referrer text NOT NULL,
  referrer_commission numeric(78, 0) NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX revenue_payments_token_idx ON revenue_payments (token_id);
CREATE INDEX revenue_payments_split_idx ON revenue_payments (split, block_number);
CREATE INDEX revenue_payments_referrer_idx ON revenue_payments (referrer, block_number);

-- Pull payments out of LicenseToken (fees, commissions) and ItemEscrow (proceeds, refunds).
CREATE TABLE withdrawals (
  contract text NOT NULL,
  account text NOT NULL,
  currency text NOT NULL,
  amount numeric(78, 0) NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX withdrawals_account_idx ON withdrawals (account, block_number);
