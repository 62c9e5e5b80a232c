-- Every API key belongs to an organisation (a law firm, an integrator); what one organisation's
-- keys request, only its keys read. Keys made before get an organisation of their own.
ALTER TABLE api_keys ADD COLUMN organisation text;
UPDATE api_keys SET organisation = id WHERE organisation IS NULL;
ALTER TABLE api_keys ALTER COLUMN organisation SET NOT NULL;
