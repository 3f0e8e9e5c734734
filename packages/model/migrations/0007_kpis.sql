-- KPI aggregates analytics keeps for the KPI API and its exports: one row per tenant x
-- campaign x variant x mailbox provider x IP pool x hour, written in the transaction that
-- claims the event, so a redelivered event counts nothing. Rates are computed on read.
-- Like campaign_counters, each slice is split over shards (chosen by message id): a busy
-- campaign hour would otherwise be one row every consumer waits on. Reads sum the shards.
-- Transactional mail (no campaign) has no KPI row.
CREATE TABLE kpi_hourly (
  tenant_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  -- '' for a message without a variant.
  variant text NOT NULL,
  -- The recipient domain's mailbox provider (google, microsoft, yahoo, ... or other).
  provider text NOT NULL,
  -- 'unknown' when an engagement event arrives before any delivery event named the pool.
  pool text NOT NULL,
  hour timestamptz NOT NULL,
  shard smallint NOT NULL CHECK (shard >= 0 AND shard < 64),
  sent bigint NOT NULL DEFAULT 0,
  delivered bigint NOT NULL DEFAULT 0,
  deferred bigint NOT NULL DEFAULT 0,
  bounced_hard bigint NOT NULL DEFAULT 0,
  bounced_soft bigint NOT NULL DEFAULT 0,
  expired bigint NOT NULL DEFAULT 0,
  complaints bigint NOT NULL DEFAULT 0,
  opens bigint NOT NULL DEFAULT 0,
  opens_unique bigint NOT NULL DEFAULT 0,
  opens_human_unique bigint NOT NULL DEFAULT 0,
  clicks bigint NOT NULL DEFAULT 0,
  clicks_unique bigint NOT NULL DEFAULT 0,
  clicks_human_unique bigint NOT NULL DEFAULT 0,
  unsubscribes bigint NOT NULL DEFAULT 0,
  conversions bigint NOT NULL DEFAULT 0,
  revenue numeric(20, 4) NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, campaign_id, variant, provider, pool, hour, shard)
);
-- Reports across campaigns read a tenant's time range.
CREATE INDEX kpi_hourly_tenant_hour ON kpi_hourly (tenant_id, hour);

-- The provider and pool of a message, fixed by its first delivery event (whose insert also
-- counts it `sent`), so later engagement events, which name only the message, land in the
-- same slice.
CREATE TABLE kpi_message_dims (
  message_id uuid PRIMARY KEY,
  provider text NOT NULL,
  pool text NOT NULL
);

-- Per-message "first time" marks for the unique metrics (opens_unique, clicks_human_unique,
-- unsubscribes, complaints...): a metric counted once per message is counted by the event
-- whose insert here succeeds.
CREATE TABLE kpi_message_marks (
  message_id uuid NOT NULL,
  metric text NOT NULL,
  PRIMARY KEY (message_id, metric)
);
