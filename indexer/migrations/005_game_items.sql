-- Game item types, balances and transfers.

CREATE TABLE game_items (
  item_id numeric(78, 0) PRIMARY KEY,
  uri text NOT NULL,
  max_supply numeric(78, 0) NOT NULL,
  minted numeric(78, 0) NOT NULL,
  burned numeric(78, 0) NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  updated_block bigint NOT NULL
);

-- Non-zero balances only.
CREATE TABLE item_balances (
  item_id numeric(78, 0) NOT NULL,
  owner text NOT NULL,
  balance numeric(78, 0) NOT NULL,
  block_number bigint NOT NULL,
  updated_block bigint NOT NULL,
  PRIMARY KEY (item_id, owner)
);
CREATE INDEX item_balances_owner_idx ON item_balances (owner, item_id);

-- One row per id moved; batch_index orders the ids of one TransferBatch.
CREATE TABLE item_transfers (
  item_id numeric(78, 0) NOT NULL,
  operator text NOT NULL,
  from_address text NOT NULL,
  to_address text NOT NULL,
  amount numeric(78, 0) NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  batch_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (block_number, log_index, batch_index)
);
CREATE INDEX item_transfers_item_idx ON item_transfers (item_id, block_number);
CREATE INDEX item_transfers_from_idx ON item_transfers (from_address, block_number);
CREATE INDEX item_transfers_to_idx ON item_transfers (to_address, block_number);
