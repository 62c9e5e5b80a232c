-- Evidence bundles are files in EVIDENCE_DIR: the row keeps where (bundle_location), how big and
-- their SHA-256. Bundles built before stay in `bundle` and are served from there, chunk by chunk.
ALTER TABLE evidence_requests ADD COLUMN bundle_location text, ADD COLUMN bundle_size bigint;
UPDATE evidence_requests SET bundle_size = octet_length(bundle) WHERE bundle IS NOT NULL;
ALTER TABLE evidence_requests DROP CONSTRAINT evidence_requests_check1;
ALTER TABLE evidence_requests ADD CONSTRAINT evidence_requests_bundle_stored CHECK (
  (status = 'ready') = (bundle_sha256 IS NOT NULL AND bundle_size IS NOT NULL
                        AND num_nonnulls(bundle, bundle_location) = 1)
);
-- What each requester's ready bundles take, summed against EVIDENCE_QUOTA_BYTES.
CREATE INDEX evidence_requests_stored_by_key ON evidence_requests (requested_by_key) WHERE status = 'ready';
CREATE INDEX evidence_requests_stored_by_address ON evidence_requests (requested_by_address) WHERE status = 'ready';
