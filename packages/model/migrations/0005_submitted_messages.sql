-- Transactional mail other services submit (SMTP submission, POST /v1/messages, gRPC Send)
-- has no campaign, no contact and no variant: one row per recipient, like campaign mail, so
-- delivery events, bounces and states apply to it unchanged. A row has a campaign or a
-- submission, never neither; submitted rows are always of class transactional. Dropping
-- NOT NULL rewrites nothing.
ALTER TABLE messages
  ALTER COLUMN campaign_id DROP NOT NULL,
  ALTER COLUMN contact_id DROP NOT NULL,
  ALTER COLUMN variant DROP NOT NULL,
  -- Every recipient of one submitted message shares it; the 250 / 202 reply names it.
  ADD COLUMN submission_id uuid,
  -- The caller's idempotency key: a retried submission finds its rows instead of sending twice.
  ADD COLUMN idempotency_key text,
  ADD CONSTRAINT messages_campaign_or_submission CHECK (
    campaign_id IS NOT NULL OR submission_id IS NOT NULL
  );

CREATE INDEX messages_submission ON messages (submission_id) WHERE submission_id IS NOT NULL;
CREATE UNIQUE INDEX messages_idempotency ON messages (tenant_id, idempotency_key, email)
  WHERE idempotency_key IS NOT NULL;
