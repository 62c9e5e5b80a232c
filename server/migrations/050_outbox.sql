-- Jobs a committed change promised (fulfil a paid order, revoke a refunded license, publish an offer,
-- notarize a registration, build evidence), written in the same transaction as the change. The
-- process that committed them queues them at once; if it dies first, the workers' relay does.
-- A row is deleted once its job is queued.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  job_id text NOT NULL,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Orders an operator may have to look at: not finished, or finished with something still owed.
CREATE INDEX orders_open_idx ON orders (updated_at)
  WHERE status IN ('paid', 'minting')
     OR (status = 'failed' AND payment_status = 'authorized')
     OR (revoke_reason IS NOT NULL AND revoked_at IS NULL);
