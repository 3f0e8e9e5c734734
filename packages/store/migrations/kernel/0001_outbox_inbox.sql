-- Transactional outbox: a service writes its state change and the event announcing it in
-- one transaction; the relay publishes committed rows afterwards. The row id is the
-- envelope id, so a row published twice (relay died before commit) dedupes downstream.
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  tenant_id uuid NOT NULL,
  -- Overrides the routing key the bus would derive from the type (e.g. an IP pool).
  routing_key text,
  envelope jsonb NOT NULL,
  -- clock_timestamp, not now(): rows of one transaction keep their insertion order.
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  published_at timestamptz
);

-- The relay only ever scans unpublished rows; published ones are history until pruned.
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;

-- Wakes relays at commit (NOTIFY is transactional). Per statement, so a bulk insert of
-- thousands of rows sends one notification, not thousands.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('relais_outbox', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Idempotent consumers: one row per (consumer, envelope) already handled. Inserting it in
-- the handler's own transaction makes "handled" and "recorded as handled" one fact.
CREATE TABLE inbox (
  consumer text NOT NULL,
  envelope_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, envelope_id)
);
