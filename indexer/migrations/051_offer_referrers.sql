-- Referrers each offer's creator approved (ReferrerSet), one row per offer and referrer as last set:
-- a withdrawn approval stays with approved = false. Changed in place, so a reorg restores it from the
-- undo log. Part of the published surface: the API reads it to show approvals and to pay commissions.
CREATE TABLE offer_referrers (
  offer_id numeric(78, 0) NOT NULL,
  referrer text NOT NULL,
  approved boolean NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (offer_id, referrer)
);
CREATE INDEX offer_referrers_referrer_idx ON offer_referrers (referrer, offer_id);
