-- The trading floor's own tables: item metadata read from the items' URIs, dispute records with both
-- parties' evidence and the arbiters' decisions, and what each player has seen of their notifications.

-- An item's metadata document as read from its ERC-1155 URI (per URI: a studio may change it).
CREATE TABLE item_metadata (
  item_id numeric(78, 0) NOT NULL,
  uri text NOT NULL,
  status text NOT NULL CHECK (status IN ('resolved', 'unsupported', 'failed')),
  name text,
  description text,
  image text,
  resolved_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (item_id, uri)
);

-- A dispute as the platform records it, beside the escrow's: the buyer's reason and who opened it.
CREATE TABLE trade_disputes (
  listing_id numeric(78, 0) PRIMARY KEY,
  reason text CHECK (reason IN ('not_received', 'not_as_described', 'wrong_amount', 'other')),
  opened_by text NOT NULL,
  opened_at timestamptz NOT NULL DEFAULT now()
);

-- Evidence of either party: a statement (its text) or a file (stored by its SHA-256 in the dispute
-- evidence directory). The SHA-256 of every piece is what the dispute record lists.
CREATE TABLE dispute_evidence (
  id bigserial PRIMARY KEY,
  listing_id numeric(78, 0) NOT NULL REFERENCES trade_disputes (listing_id),
  party text NOT NULL CHECK (party IN ('buyer', 'seller')),
  submitted_by text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('statement', 'file')),
  sha256 text NOT NULL CHECK (sha256 ~ '^0x[0-9a-f]{64}$'),
  size bigint NOT NULL CHECK (size >= 0),
  body text,
  filename text,
  media_type text,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'statement') = (body IS NOT NULL))
);
CREATE INDEX dispute_evidence_listing_idx ON dispute_evidence (listing_id, id);

-- Every decision taken on a dispute, with its reason: a resolution for the arbiter to sign, or its
-- handing to another arbiter. Decisions are never changed or removed.
CREATE TABLE dispute_decisions (
  id bigserial PRIMARY KEY,
  listing_id numeric(78, 0) NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('refund_buyer', 'complete_sale', 'reassign')),
  reason text NOT NULL CHECK (length(reason) BETWEEN 10 AND 2000),
  decided_by text NOT NULL,
  signer text NOT NULL,
  arbiter text,
  decided_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((outcome = 'reassign') = (arbiter IS NOT NULL))
);
CREATE INDEX dispute_decisions_listing_idx ON dispute_decisions (listing_id, id);

CREATE FUNCTION dispute_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'dispute records are append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER dispute_evidence_append_only BEFORE UPDATE OR DELETE ON dispute_evidence
  FOR EACH ROW EXECUTE FUNCTION dispute_records_append_only();
CREATE TRIGGER dispute_decisions_append_only BEFORE UPDATE OR DELETE ON dispute_decisions
  FOR EACH ROW EXECUTE FUNCTION dispute_records_append_only();

-- The newest notification of each source a player has seen: escrow events by (block, log), evidence
-- and decisions by id. Each source only grows, so "unread" needs no clock.
CREATE TABLE notification_reads (
  wallet text PRIMARY KEY,
  chain_block bigint NOT NULL DEFAULT 0,
  chain_log integer NOT NULL DEFAULT 0,
  evidence_id bigint NOT NULL DEFAULT 0,
  decision_id bigint NOT NULL DEFAULT 0
);
