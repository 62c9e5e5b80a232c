-- Direct registrations go through commit and reveal: the work id the commitment reserved is kept
-- so a retried job reveals under it. Batch entries keep their leaf index and the digest the creator
-- signed, the values their leaf binds. A batch's manifest is kept here until its anchor is mined,
-- and published to IPFS only then.
ALTER TABLE registration_requests
  ADD COLUMN work_id numeric(78, 0),
  ADD COLUMN commit_tx_hash text,
  ADD COLUMN leaf_index integer,
  ADD COLUMN registration_digest text;

ALTER TABLE notarization_batches
  ADD COLUMN manifest text,
  ADD COLUMN published boolean NOT NULL DEFAULT true;
