-- When each event's block was produced: registration times, evidence timelines and license history read it.
ALTER TABLE chain_events ADD COLUMN block_time timestamptz;
CREATE INDEX chain_events_block_time_idx ON chain_events (block_time);
