-- Requests for evidence bundles of a registered work, and the bundles once built.
CREATE TABLE evidence_requests (
  id uuid PRIMARY KEY,
  -- The work as the requester named it: its id for a direct registration, NULL for a work anchored
  -- only in a Merkle batch; the content hash and creator identify it either way.
  work_id numeric(78, 0),
  content_hash text NOT NULL,
  creator text NOT NULL,
  -- Exactly one requester: an API key with the legal scope, or the creator's SIWE session.
  requested_by_key text REFERENCES api_keys (id),
  requested_by_address text,
  infringement jsonb NOT NULL,
  include_original boolean NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'building', 'ready', 'failed')),
  error text,
  bundle_sha256 text,
  bundle bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  CHECK (num_nonnulls(requested_by_key, requested_by_address) = 1),
  CHECK ((status = 'ready') = (bundle IS NOT NULL AND bundle_sha256 IS NOT NULL))
);
CREATE INDEX evidence_requests_work ON evidence_requests (content_hash, created_at DESC);
