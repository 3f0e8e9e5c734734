-- Slices of a campaign that are paused: by a circuit breaker in analytics (a provider or an
-- IP pool whose bounce or complaint rate crossed its threshold with statistical confidence)
-- or by a user. A row with resumed_at NULL is in force; the relay holds the slice's messages
-- (postponed on the bus, never dropped) until it is resumed. Rows are kept after resume as
-- the history the campaign and the dashboard show.
--   scope_provider / scope_pool: '' means "any" (a whole-campaign pause has both empty), so
--   the partial unique index below can keep one active pause per slice without NULL holes.
CREATE TABLE campaign_pauses (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  scope_provider text NOT NULL DEFAULT '',
  scope_pool text NOT NULL DEFAULT '',
  -- 'breaker' (automatic) or 'user'.
  source text NOT NULL CHECK (source IN ('breaker', 'user')),
  -- Machine-readable trigger, e.g. 'bounce_rate' or 'complaint_rate'; NULL for a user pause.
  metric text,
  -- Human-readable why, shown by the campaign API and the dashboard.
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  -- The evidence at the moment of the decision: window, counts, rate, bound, threshold.
  evidence jsonb NOT NULL DEFAULT '{}'::jsonb,
  paused_at timestamptz NOT NULL DEFAULT now(),
  resumed_at timestamptz,
  resumed_by text,
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX campaign_pauses_active
  ON campaign_pauses (tenant_id, campaign_id, scope_provider, scope_pool)
  WHERE resumed_at IS NULL;
CREATE INDEX campaign_pauses_in_force ON campaign_pauses (paused_at) WHERE resumed_at IS NULL;
