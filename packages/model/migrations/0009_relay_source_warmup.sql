-- Messages each mta-relay egress source (a local IP address) sent per UTC day, for warm-up
-- caps: a new address may only send a few messages a day at first, ramping up. Every relay
-- replica adds the sends it made since its last flush (periodically, not per message) and
-- reads the day's totals at start, so a restart does not hand a warming address a fresh day.
CREATE TABLE relay_source_warmup (
  source text NOT NULL,
  day date NOT NULL,
  sent integer NOT NULL DEFAULT 0 CHECK (sent >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, day)
);
