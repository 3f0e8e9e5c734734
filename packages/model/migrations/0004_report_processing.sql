-- What the bounce processor's report worker made of each inbound report: the verdict it acted
-- on (kind, classification, what it did), or the error of a report it could not process.
-- `attempts` counts claims that failed as a whole (the transaction rolled back), so a report
-- that keeps breaking its batch is given up after a few tries instead of retried forever.
ALTER TABLE inbound_reports
  ADD COLUMN verdict jsonb,
  ADD COLUMN error text,
  ADD COLUMN attempts integer NOT NULL DEFAULT 0;

-- Repeated soft bounces are counted per address over a window: `bounces_address`
-- (tenant_id, email, created_at DESC) already serves that count.
