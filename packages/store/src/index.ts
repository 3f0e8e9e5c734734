export type {
  CopySource,
  OpenStoreOptions,
  Queryable,
  QueryResult,
  Store,
  StoreDriver,
  Unlisten,
} from './port';
export { DEFAULT_DATA_DIR, openStore } from './open-store';
export { toStoreError } from './errors';
export { encodeCopyValue } from './copy-format';
export {
  KERNEL_MIGRATIONS_DIR,
  loadMigrations,
  migrate,
  migrateKernel,
  migrationChecksum,
  type Migration,
  type MigrateOptions,
  type MigrateResult,
} from './migrate';
export {
  OUTBOX_CHANNEL,
  enqueueOutbox,
  pruneOutbox,
  startOutboxRelay,
  type EnqueueOptions,
  type OutboxPublish,
  type OutboxRelay,
  type OutboxRelayOptions,
} from './outbox';
export { claimInbox, createStoreDedupe, type DedupeStore } from './dedupe';
export { createMicroBatcher, type MicroBatcher } from './micro-batcher';
export { STORE_LOG_EVENTS, type StoreLogEvent } from './log-events';
