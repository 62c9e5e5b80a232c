-- The market reads open listings filtered by item, currency or price and sorted by price, deadline or
-- age: partial indexes over the open ones keep its first page fast beside any number of ended trades.
CREATE INDEX listings_open_idx ON listings (listing_id) WHERE state = 'listed';
CREATE INDEX listings_open_price_idx ON listings (price, listing_id) WHERE state = 'listed';
CREATE INDEX listings_open_currency_price_idx ON listings (currency, price, listing_id) WHERE state = 'listed';
CREATE INDEX listings_open_item_price_idx ON listings (item_id, price, listing_id) WHERE state = 'listed';
CREATE INDEX listings_open_deadline_idx ON listings (deadline, listing_id) WHERE state = 'listed';
