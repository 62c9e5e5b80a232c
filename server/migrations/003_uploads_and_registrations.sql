-- Files received by POST /v1/works, kept in IPFS under their CID.
CREATE TABLE uploads (
  content_hash text PRIMARY KEY,
  cid text NOT NULL,
  size bigint NOT NULL,
  filename text,
  content_type text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The metadata document of each upload request, by its IPFS URI: what a creator signs is theirs
-- alone, so whoever uploads the same bytes first cannot name another creator's work.
CREATE TABLE work_metadata (
  metadata_uri text PRIMARY KEY,
  content_hash text NOT NULL REFERENCES uploads (content_hash),
  title text NOT NULL,
  description text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_metadata_title ON work_metadata (lower(title) text_pattern_ops);

-- Merkle batches of registrations anchored with anchorBatch.
CREATE TABLE notarization_batches (
  id bigserial PRIMARY KEY,
  merkle_root text NOT NULL UNIQUE,
  leaf_count integer NOT NULL,
  manifest_cid text NOT NULL,
  tx_hash text,
  status text NOT NULL CHECK (status IN ('building', 'submitted', 'failed')),
  error text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A creator's signed request to register a content hash, and its progress.
CREATE TABLE registration_requests (
  content_hash text PRIMARY KEY REFERENCES uploads (content_hash),
  creator text NOT NULL,
  cid text NOT NULL,
  metadata_uri text NOT NULL,
  parent_id numeric(78, 0) NOT NULL,
  nonce numeric(78, 0) NOT NULL,
  deadline numeric(78, 0) NOT NULL,
  signature text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('direct', 'batch')),
  status text NOT NULL CHECK (status IN ('pending', 'submitted', 'failed')),
  tx_hash text,
  batch_id bigint REFERENCES notarization_batches (id),
  leaf text,
  proof text[],
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registration_requests_creator ON registration_requests (creator, created_at DESC);
CREATE INDEX registration_requests_batch_queue ON registration_requests (created_at)
  WHERE mode = 'batch' AND status = 'pending' AND batch_id IS NULL;
