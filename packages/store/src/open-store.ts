import type { OpenStoreOptions, Store } from './port';
import { createPgStore } from './pg-store';
import { createPgliteStore } from './pglite-store';

/** Where the embedded database lives when no folder is configured. */
export const DEFAULT_DATA_DIR = '.relais/data';

/**
 * Opens the store the environment asks for: PostgreSQL when a URL is given (distributed
 * mode), otherwise PGlite in a local folder (embedded mode). Callers never learn which.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    return createPgStore({
      databaseUrl: options.databaseUrl,
      logger: options.logger,
      poolSize: options.poolSize,
    });
  }
  return createPgliteStore({
    dataDir: options.dataDir ?? DEFAULT_DATA_DIR,
    logger: options.logger,
  });
}
