-- Readers find an event by its block and log index (the event_blocks view, as the domain tables refer
-- to it), and a rollback reads and deletes the events above a block; neither names the chain, since
-- a database mirrors one chain. Keyed by block first, the primary key serves both instead of a scan.
ALTER TABLE chain_events DROP CONSTRAINT chain_events_pkey;
ALTER TABLE chain_events ADD PRIMARY KEY (block_number, log_index, chain_id);
