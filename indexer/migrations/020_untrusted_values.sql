-- Values an event's sender chose are stored as indexer/untrusted.ts decides: NUL and invalid UTF-8
-- replaced, long strings and arrays cut to a prefix. Where that changed anything, the raw event keeps its
-- data as emitted, and every row holding such a value notes, per column, the value's length, its
-- keccak-256 and whether it was cut or had characters replaced.

ALTER TABLE chain_events
  ADD COLUMN raw_data bytea,
  ADD COLUMN value_notes jsonb;

ALTER TABLE works ADD COLUMN value_notes jsonb;
ALTER TABLE batches ADD COLUMN value_notes jsonb;
ALTER TABLE offers ADD COLUMN value_notes jsonb;
ALTER TABLE game_items ADD COLUMN value_notes jsonb;
