-- Redemption: a creator's own systems mark a sold code used, once, with a key of the creator's.
-- A key with the 'redeem' scope belongs to one creator and redeems only that creator's codes.
ALTER TABLE api_keys ADD COLUMN creator text;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_redeem_creator
  CHECK ((creator IS NOT NULL) = ('redeem' = ANY (scopes)));

-- Which key redeemed a code (redeemed_by is what the creator's system says about who).
ALTER TABLE redemption_codes ADD COLUMN redeemed_key text REFERENCES api_keys (id);
