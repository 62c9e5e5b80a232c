-- Each batch of redemption codes is committed on chain as one Merkle root (CodeCommitments), sent
-- once by the relayer under the batch's id; the root is computed from the stored codes when sent.
ALTER TABLE code_batches
  ADD COLUMN merkle_root text CHECK (merkle_root ~ '^0x[0-9a-f]{64}$'),
  ADD COLUMN commit_status text NOT NULL DEFAULT 'pending'
    CHECK (commit_status IN ('pending', 'submitted', 'committed', 'failed')),
  ADD COLUMN commit_tx_hash text,
  ADD COLUMN commit_block bigint,
  ADD COLUMN commit_error text;
