import { loadMigrations, migrate, type MigrateResult, type Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';

/**
 * The relais data model shared by the services that read and write the audience and the
 * campaigns. One owner (`model`) keeps one version sequence; every service applies it at
 * start (after the kernel's), and the migration lock makes concurrent starts safe.
 */
export const MODEL_MIGRATIONS_DIR = new URL('../migrations/', import.meta.url);

/** Applies the data model's pending migrations. */
export async function migrateModel(store: Store, logger?: Logger): Promise<MigrateResult> {
  return migrate(store, {
    owner: 'model',
    migrations: await loadMigrations(MODEL_MIGRATIONS_DIR),
    logger,
  });
}
