-- What the mta-relay's throttle controllers learned about each (IP pool x provider site):
-- the rate and concurrency they settled on, the running backoff, and a short history of cuts
-- and raises. Written periodically (not per message) by every relay replica and read at
-- start, so a restarted or new replica starts from what was learned instead of from the
-- profile's initial rate. The last writer wins: replicas converge on the same receivers.
CREATE TABLE relay_throttle_state (
  pool text NOT NULL,
  site text NOT NULL,
  rate_per_second double precision NOT NULL CHECK (rate_per_second > 0),
  concurrency double precision NOT NULL CHECK (concurrency >= 1),
  backoff_until timestamptz,
  consecutive_cuts integer NOT NULL DEFAULT 0,
  -- [{atMs, event: cut|raise|restore, cause?, ratePerSecond, concurrency}], newest last.
  history jsonb NOT NULL DEFAULT '[]'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool, site)
);
