-- What happened to the mail once it left the dispatcher: the outcome columns of a message,
-- the bounce records the bounce processor keeps, and the per-campaign counters analytics
-- keeps. Adding columns with constant defaults rewrites nothing (PostgreSQL 11+).

-- Delivery attempts seen (delivered, deferred, bounced and expired events each count one),
-- the last reply or failure reason in words, and when the state became final.
ALTER TABLE messages
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN last_reason text,
  ADD COLUMN final_at timestamptz;

-- Messages not yet final, by campaign: the completion check reads only this index, which
-- stays as small as the mail still in flight.
CREATE INDEX messages_in_flight ON messages (campaign_id)
  WHERE state IN ('pending', 'queued', 'sent', 'deferred');

-- Event counters per campaign. Every event of a campaign would hit one row, so each counter
-- is split over shards (chosen by message id) and read as their sum: concurrent consumers
-- then rarely wait on each other's row lock.
CREATE TABLE campaign_counters (
  campaign_id uuid NOT NULL,
  counter text NOT NULL,
  shard smallint NOT NULL CHECK (shard >= 0 AND shard < 64),
  value bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (campaign_id, counter, shard)
);

-- One row per classified bounce, keyed by the event that reported it so a redelivered event
-- is recorded once. `reason` uses Sisimai's taxonomy (userunknown, mailboxfull…).
CREATE TABLE bounces (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  message_id uuid NOT NULL,
  campaign_id uuid,
  email text NOT NULL,
  source text NOT NULL CHECK (source IN ('smtp', 'dsn')),
  reason text NOT NULL,
  hard boolean NOT NULL,
  confidence real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  status text,
  reply_code smallint,
  diagnostic text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bounces_address ON bounces (tenant_id, email, created_at DESC);
