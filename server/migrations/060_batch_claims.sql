-- A batch leaf becomes its work only once claimed on chain; until then a later direct claim of the
-- same hash holds it. The anchor's on-chain batch id and first work id are kept so every leaf can
-- be claimed under its id, and each request records when it was claimed and by which transaction
-- (none when someone else claimed the leaf first).
ALTER TABLE notarization_batches
  ADD COLUMN chain_batch_id numeric(78, 0),
  ADD COLUMN first_work_id numeric(78, 0);

ALTER TABLE registration_requests
  ADD COLUMN claim_tx_hash text,
  ADD COLUMN claimed_at timestamptz;

CREATE INDEX registration_requests_leaf ON registration_requests (batch_id, leaf_index);
