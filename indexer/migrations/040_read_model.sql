-- The indexer's published surface for other readers (the API): the chain's heads and the block facts
-- of each event. Readers name these views and the domain tables, never the bookkeeping tables
-- (indexer_state, indexer_blocks, indexer_undo) nor the raw log (chain_events), which may change shape.

-- The heads of each indexed chain: how far the mirror is, and which blocks are safe and final.
CREATE VIEW chain_heads AS
SELECT chain_id, block_number AS indexed_block, head_block, safe_block, finalized_block, updated_at
  FROM indexer_state;

-- Where and when each indexed event happened, keyed as the domain tables refer to it.
CREATE VIEW event_blocks AS
SELECT chain_id, block_number, log_index, block_hash, block_time, tx_hash
  FROM chain_events;
