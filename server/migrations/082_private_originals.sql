-- A private original is stored sealed (segments of AES-256-GCM) under a data key of its own: the
-- key, wrapped by the key-encryption key that key_id names, and the sealed file's header are kept
-- here, so the store and IPFS peers hold only ciphertext. Uploads stored before were in the clear.
ALTER TABLE uploads
  ADD COLUMN visibility text NOT NULL DEFAULT 'public' CHECK (visibility IN ('private', 'public')),
  ADD COLUMN key_id text,
  ADD COLUMN wrapped_key bytea,
  ADD COLUMN seal_header bytea;
ALTER TABLE uploads ALTER COLUMN visibility DROP DEFAULT;
ALTER TABLE uploads ADD CONSTRAINT uploads_sealed_when_private CHECK (
  (visibility = 'private') = (key_id IS NOT NULL AND wrapped_key IS NOT NULL AND seal_header IS NOT NULL)
);
-- A key rotation looks for the data keys wrapped under a retired key-encryption key.
CREATE INDEX uploads_key_id ON uploads (key_id) WHERE key_id IS NOT NULL;

-- A work's public preview (an excerpt, a small image), stored in the clear and served by /ipfs to anyone.
CREATE TABLE work_previews (
  content_hash text PRIMARY KEY REFERENCES uploads (content_hash) ON DELETE CASCADE,
  cid text NOT NULL,
  size bigint NOT NULL,
  filename text,
  content_type text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_previews_cid ON work_previews (cid);
