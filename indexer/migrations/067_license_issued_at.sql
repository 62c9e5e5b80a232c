-- The block time of each license's mint, on the license row: an evidence bundle lists a work's
-- licenses with it, and reading it through event_blocks took one chain_events lookup per license
-- (100,000 for a busy work). Licenses indexed before block times were kept stay null.
ALTER TABLE licenses ADD COLUMN issued_at timestamptz;
UPDATE licenses l SET issued_at = e.block_time
  FROM chain_events e
 WHERE e.block_number = l.block_number AND e.log_index = l.log_index AND e.block_time IS NOT NULL;
