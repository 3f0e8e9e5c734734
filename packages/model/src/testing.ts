import { migrateKernel, openStore, type Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';
import { createTestSchema, probe } from '@relais/testing';
import { migrateModel } from './index';

/**
 * Test support for the services' integration suites (`@relais/model/testing`): the store
 * drivers a case runs against, each opened with the kernel's and the model's migrations.
 */

/** An open store and how to dispose of it (close, drop its schema). */
export interface TestStore {
  store: Store;
  drop(): Promise<void>;
}

/** One store driver the integration cases run against. */
export interface Driver {
  name: string;
  open(): Promise<TestStore>;
}

/**
 * Embedded PGlite always; the real PostgreSQL when it answers (CI requires it, and
 * `probe` fails there when it does not), each case in a schema of its own.
 */
export async function storeDrivers(schemaPrefix: string, logger: Logger): Promise<Driver[]> {
  const pg = await probe('postgres');
  const pglite: Driver = {
    name: 'pglite',
    open: async () => ({
      store: await openStore({ dataDir: 'memory://', logger }),
      drop: () => Promise.resolve(),
    }),
  };
  const postgres: Driver = {
    name: 'postgres',
    open: async () => {
      const schema = await createTestSchema(schemaPrefix);
      return {
        store: await openStore({ databaseUrl: schema.url, logger }),
        drop: () => schema.cleanup(),
      };
    },
  };
  return pg.available ? [pglite, postgres] : [pglite];
}

/** A store of the given driver with the kernel's and the model's migrations applied. */
export async function openMigratedStore(driver: Driver, logger: Logger): Promise<TestStore> {
  const opened = await driver.open();
  await migrateKernel(opened.store, logger);
  await migrateModel(opened.store, logger);
  return {
    store: opened.store,
    drop: async () => {
      await opened.store.close();
      await opened.drop();
    },
  };
}
