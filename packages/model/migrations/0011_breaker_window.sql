-- The recent delivery outcomes and complaints the circuit breakers of analytics read: one
-- row per tenant x campaign x mailbox provider x IP pool x 5-second bucket x shard, written
-- in the transaction that claims the event (like kpi_hourly, so a redelivered event counts
-- nothing twice). The breakers sum the buckets of their sliding window; the sweep deletes
-- buckets older than any window, so the table stays as small as a few minutes of traffic.
-- Sharded like kpi_hourly: a busy slice would otherwise be one row every consumer waits on.
CREATE TABLE breaker_window (
  tenant_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  -- The recipient domain's mailbox provider (providerOf: google, microsoft, ... or other).
  provider text NOT NULL,
  pool text NOT NULL,
  -- Start of the 5-second bucket the event's time falls in.
  bucket timestamptz NOT NULL,
  shard smallint NOT NULL CHECK (shard >= 0 AND shard < 64),
  delivered bigint NOT NULL DEFAULT 0,
  bounced_hard bigint NOT NULL DEFAULT 0,
  bounced_soft bigint NOT NULL DEFAULT 0,
  complaints bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (campaign_id, provider, pool, bucket, shard, tenant_id)
);
-- The sweep reads the window and prunes what fell out of it by time.
CREATE INDEX breaker_window_bucket ON breaker_window (bucket);
