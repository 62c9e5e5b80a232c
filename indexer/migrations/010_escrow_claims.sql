-- Escrow listings carry the commission fixed at listing, the dispute deadline, the arbiter the admin
-- assigned, and which sides of an ended trade have been claimed.

ALTER TABLE listings
  ADD COLUMN commission_bps integer,
  ADD COLUMN resolve_by numeric(20, 0),
  ADD COLUMN assigned_arbiter text,
  ADD COLUMN items_claimed boolean NOT NULL DEFAULT false,
  ADD COLUMN funds_claimed boolean NOT NULL DEFAULT false;
