-- Mail the platform sends, one row per mail, recorded in the transaction of the change that calls
-- for it; its send job goes through the outbox. `key` names what makes the mail unique
-- (`receipt:<orderId>`), so a change recorded twice mails once.
--   pending     → waiting for a send job (again, after a refusal the server answered)
--   sending     → a worker committed that it is about to hand the message over; until lease_until
--                 it is that worker's
--   sent        → the SMTP server accepted it (smtp_response)
--   failed      → the SMTP server refused it for good, or every attempt failed
--   unconfirmed → a worker died or lost its connection while handing it over: it may or may not have
--                 been accepted, and it is never sent again on its own (an operator checks the SMTP
--                 server's log for message_id; `npm run stuck` lists these)
CREATE TABLE mails (
  id bigserial PRIMARY KEY,
  key text NOT NULL UNIQUE CHECK (length(key) BETWEEN 1 AND 200),
  recipient text NOT NULL,
  template text NOT NULL,
  data jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unconfirmed')),
  -- Derived from the key and the sender's domain, written when the mail is handed over: the same
  -- mail has the same Message-ID whoever sends it, so a receiving server (or an operator) can tell it.
  message_id text UNIQUE,
  attempts integer NOT NULL DEFAULT 0,
  lease_until timestamptz,
  smtp_response text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX mails_attention_idx ON mails (updated_at) WHERE state IN ('sending', 'failed', 'unconfirmed');
