-- Offers carry the platform fee fixed when they were published and whether their licenses can be
-- revoked for breach of terms.

ALTER TABLE offers
  ADD COLUMN revocable boolean NOT NULL DEFAULT false,
  ADD COLUMN platform_fee_bps integer;
