-- How licenses of an offer are delivered, set server-side by the offer's creator like its card
-- price: downloads per license, devices per license, the window after purchase, watermarking.
-- A null limit is no limit; an offer without a row has none.
CREATE TABLE delivery_terms (
  offer_id numeric(78, 0) PRIMARY KEY,
  max_downloads integer CHECK (max_downloads > 0),
  max_devices integer CHECK (max_devices > 0),
  window_seconds bigint CHECK (window_seconds > 0),
  watermark boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- What each license has used: its row is locked while a download is counted, so concurrent
-- requests never pass a limit together.
CREATE TABLE license_usage (
  token_id numeric(78, 0) PRIMARY KEY,
  downloads integer NOT NULL DEFAULT 0
);

-- The devices (browsers, API clients) a license downloaded on, by the SHA-256 of the key each keeps.
CREATE TABLE license_devices (
  token_id numeric(78, 0) NOT NULL,
  key_hash text NOT NULL,
  label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (token_id, key_hash)
);

-- Every delivery: a download link given to the holder of a license, for the work's creator to see.
CREATE TABLE deliveries (
  seq bigserial PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  token_id numeric(78, 0) NOT NULL,
  offer_id numeric(78, 0) NOT NULL,
  work_id numeric(78, 0) NOT NULL,
  holder text NOT NULL,
  via text NOT NULL CHECK (via IN ('wallet', 'order')),
  device_hash text,
  watermarked boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_work ON deliveries (work_id, seq DESC);
CREATE INDEX deliveries_token ON deliveries (token_id, seq DESC);
