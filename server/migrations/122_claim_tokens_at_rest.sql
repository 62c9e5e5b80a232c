-- Claim-link tokens are no longer kept at rest: a claim-link mail records the claim's id, and the
-- mail worker derives the token (an HMAC under CLAIM_KEY) as it renders the link. Mails recorded
-- before carried the token in their link: it is dropped from every one of them. One still waiting
-- to be sent can no longer be rendered, so it fails, and its unused claim expires now: the buyer
-- has a new link mailed with the order's email and secret.
UPDATE order_claims c
   SET expires_at = least(c.expires_at, now())
  FROM mails m
 WHERE m.template = 'claim-link' AND m.data ? 'claimUrl' AND m.state = 'pending'
   AND c.order_id::text = m.data->>'orderId' AND c.claimed_at IS NULL;

UPDATE mails
   SET state = 'failed', error = 'its claim link was dropped at rest; a new link is mailed on request',
       updated_at = now()
 WHERE template = 'claim-link' AND data ? 'claimUrl' AND state = 'pending';

UPDATE mails SET data = data - 'claimUrl' WHERE template = 'claim-link' AND data ? 'claimUrl';
