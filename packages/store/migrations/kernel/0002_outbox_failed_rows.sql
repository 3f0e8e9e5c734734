-- A row whose envelope no longer validates (written by an older build, or edited by hand)
-- must not block the rows behind it forever: the relay sets it aside with the reason.
ALTER TABLE outbox ADD COLUMN failed_at timestamptz;
ALTER TABLE outbox ADD COLUMN failure_reason text;

DROP INDEX outbox_unpublished_idx;
CREATE INDEX outbox_pending_idx ON outbox (created_at)
  WHERE published_at IS NULL AND failed_at IS NULL;
