-- Engagement: who may be tracked, where tracked links lead, what recipients did with a
-- message (opens, clicks, human or machine) and the conversions attributed to it.

-- Whose messages carry tracking (rewritten links, open pixel). The consent ledger decides per
-- contact through contacts.consents -> 'tracking':
--   consent           only contacts whose current `tracking` consent is granted (default);
--   unless_withdrawn  every contact except those who withdrew `tracking` consent;
--   off               nobody.
-- A tenant that relies on another lawful basis chooses unless_withdrawn explicitly.
ALTER TABLE tenants
  ADD COLUMN tracking_policy text NOT NULL DEFAULT 'consent'
    CHECK (tracking_policy IN ('consent', 'unless_withdrawn', 'off'));

-- The targets of tracked links, one row per distinct URL of a campaign (a personalized URL
-- is one row per recipient that has it). Click tokens carry only the key: a URL never holds
-- a target, so it cannot be edited to lead elsewhere and leaks no address a target holds.
-- Written by the dispatcher before the message is published, so no click can precede it.
CREATE TABLE campaign_links (
  campaign_id uuid NOT NULL,
  -- First 8 bytes of SHA-256 of the URL, hex.
  link_key text NOT NULL CHECK (link_key ~ '^[0-9a-f]{16}$'),
  tenant_id uuid NOT NULL,
  url text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, link_key)
);

-- Every pixel fetch and click, replays included (append-only). `machine` is the detector's
-- verdict and `machine_reason` its first reason (apple-mpp, image-proxy, scanner-agent…).
-- No IP address and no address of the recipient: the network class is the reason.
CREATE TABLE engagement_events (
  id bigint GENERATED ALWAYS AS IDENTITY,
  message_id uuid NOT NULL,
  tenant_id uuid NOT NULL,
  campaign_id uuid,
  kind text NOT NULL CHECK (kind IN ('open', 'click')),
  link_key text,
  machine boolean NOT NULL,
  machine_reason text,
  user_agent text,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (message_id, id)
);
-- A campaign's engagement figures count its events by kind.
CREATE INDEX engagement_events_campaign ON engagement_events (campaign_id, kind)
  WHERE campaign_id IS NOT NULL;

-- The unique counts live on the message: the first open/click (any) and the first human
-- one. Set once under a `IS NULL` guard, so a replay is recorded above but counted once.
-- last_engaged_at feeds conversion attribution by contact.
ALTER TABLE messages
  ADD COLUMN opened_at timestamptz,
  ADD COLUMN human_opened_at timestamptz,
  ADD COLUMN clicked_at timestamptz,
  ADD COLUMN human_clicked_at timestamptz,
  ADD COLUMN last_engaged_at timestamptz;
CREATE INDEX messages_engaged_contact ON messages (tenant_id, contact_id, last_engaged_at DESC)
  WHERE last_engaged_at IS NOT NULL;

-- Conversions reported by the tenant (POST /v1/conversions). The idempotency key makes a
-- retried report one row; attribution says how the message was found (none: no message).
CREATE TABLE conversions (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  idempotency_key text NOT NULL,
  message_id uuid,
  campaign_id uuid,
  contact_id uuid,
  attribution text NOT NULL CHECK (attribution IN ('message', 'click', 'open', 'none')),
  amount numeric(18, 4) NOT NULL CHECK (amount >= 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX conversions_campaign ON conversions (campaign_id) WHERE campaign_id IS NOT NULL;
