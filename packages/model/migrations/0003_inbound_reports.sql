-- Mail the bounce processor's SMTP listener accepted (DSNs to VERP addresses, ARF reports to
-- the feedback address), kept as received before the 250 reply so none is lost between the
-- reply and the parsing. The parser fills `kind` and `processed_at` later.
CREATE TABLE inbound_reports (
  id uuid PRIMARY KEY,
  -- The tenant of the message the VERP token names; null for feedback reports and for a
  -- token whose message row is gone.
  tenant_id uuid,
  message_id uuid,
  kind text,
  rcpt_to text NOT NULL,
  mail_from text NOT NULL,
  raw bytea NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);

-- What is left to parse: only rows not processed yet are in this index.
CREATE INDEX inbound_reports_pending ON inbound_reports (received_at) WHERE processed_at IS NULL;
