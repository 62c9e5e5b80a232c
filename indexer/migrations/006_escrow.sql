-- Escrow listings (current state) and their state history.

CREATE TABLE listings (
  listing_id numeric(78, 0) PRIMARY KEY,
  seller text NOT NULL,
  token text NOT NULL,
  item_id numeric(78, 0) NOT NULL,
  amount numeric(78, 0) NOT NULL,
  price numeric(78, 0) NOT NULL,
  currency text NOT NULL,
  deadline numeric(20, 0) NOT NULL,
  state text NOT NULL,
  buyer text,
  confirm_by numeric(20, 0),
  seller_proceeds numeric(78, 0),
  commission numeric(78, 0),
  settled boolean,
  arbiter text,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  updated_block bigint NOT NULL
);
CREATE INDEX listings_seller_idx ON listings (seller, listing_id);
CREATE INDEX listings_buyer_idx ON listings (buyer, listing_id);
CREATE INDEX listings_state_idx ON listings (state, listing_id);
CREATE INDEX listings_item_idx ON listings (token, item_id, state);

-- One row per escrow event of a listing: the event and the state it left the listing in.
CREATE TABLE listing_states (
  listing_id numeric(78, 0) NOT NULL,
  event text NOT NULL,
  state text NOT NULL,
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX listing_states_listing_idx ON listing_states (listing_id, block_number, log_index);
