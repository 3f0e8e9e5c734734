/**
 * Every log event the store writes, keyed by its `event.action`. Alerts match on these
 * codes, so entries are only ever added; `log-events.test.ts` fails when the code uses one
 * that is not listed here.
 */
export const STORE_LOG_EVENTS = {
  'store.initialized': 'A new embedded (PGlite) database folder was created.',
  'store.opened': 'The embedded database was opened.',
  'store.connection.lost': 'An idle pooled PostgreSQL connection failed; the pool replaces it.',
  'store.rollback.failed':
    'A rollback after a failed transaction failed; the connection is discarded.',
  'store.listen.lost': 'The LISTEN connection failed; it reconnects with backoff.',
  'store.listen.restored': 'The LISTEN connection is back and subscribed again.',
  'store.migration.applied': 'A schema migration was applied.',
  'store.migration.unknown':
    'The database has a migration this build does not know (a newer replica ran it).',
  'outbox.listen.failed': 'The outbox relay could not LISTEN; it falls back to polling.',
  'outbox.batch.failed': 'Publishing an outbox batch failed; rolled back, retried with backoff.',
  'outbox.row.failed':
    'An outbox row does not validate; set aside with its reason (failed_at, failure_reason).',
} as const;

/** One of the store's stable log event codes. */
export type StoreLogEvent = keyof typeof STORE_LOG_EVENTS;
