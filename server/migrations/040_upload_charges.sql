-- What each account (a signed-in wallet or an API key) uploaded, for its byte quota: one charge per
-- account and file, taken before the file is stored and dropped when the upload fails or is collected.
CREATE TABLE upload_charges (
  account text NOT NULL,
  content_hash text NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account, content_hash)
);
CREATE INDEX upload_charges_content_hash ON upload_charges (content_hash, created_at);
CREATE INDEX uploads_created_at ON uploads (created_at);
