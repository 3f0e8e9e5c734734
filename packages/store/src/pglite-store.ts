import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { RelaisError } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import { copyStatement, encodeCopyChunks } from './copy-format';
import { toStoreError } from './errors';
import {
  CHANNEL_PATTERN,
  type CopySource,
  type Queryable,
  type QueryResult,
  type Store,
} from './port';

export interface PgliteStoreOptions {
  /** A folder (created when missing) or `memory://`. */
  dataDir: string;
  logger: Logger;
}

/** PostgreSQL type oid of int8. */
const INT8_OID = 20;

/**
 * Rows per `/dev/blob` COPY. Each chunk is one blob copied into the WASM file system, so
 * this bounds memory; on 1M narrow rows 10k, 50k and 200k rows per blob ran within noise
 * of each other, so the smallest wins.
 */
const PGLITE_COPY_CHUNK_ROWS = 10_000;

function openPglite(dataDir: string): Promise<PGlite> {
  // int8 as a string, like node-postgres: counts and sums must not lose precision.
  return PGlite.create({ dataDir, parsers: { [INT8_OID]: (value: string) => value } });
}

/**
 * Creates a new database folder atomically: initdb runs in a sibling folder that is renamed
 * into place only once it finished. A process killed during the first start (Ctrl-C while
 * `npm start` boots) would otherwise leave a half-initialized cluster that fails on every
 * later start with errors like `language "plpgsql" does not exist`.
 */
async function initializeDataDir(dataDir: string, logger: Logger): Promise<void> {
  const existing = await readdir(dataDir).catch(() => undefined);
  if (existing !== undefined && existing.length > 0) return;
  await mkdir(dirname(dataDir), { recursive: true });
  const staging = join(dirname(dataDir), `.${basename(dataDir)}.init-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  const db = await openPglite(staging);
  await db.close();
  if (existing !== undefined) await rm(dataDir, { recursive: true, force: true });
  await rename(staging, dataDir);
  logger.info({ 'event.action': 'store.initialized', dataDir }, 'embedded database created');
}

/** What both PGlite and its transactions can run (the subset we use). */
type PgliteRunner = Pick<Transaction, 'query' | 'exec'>;

/**
 * The embedded driver: PostgreSQL compiled to WASM, one connection. PGlite runs statements
 * and transactions one at a time, so concurrency control is a mutex, not row locks: the
 * same SQL (FOR UPDATE SKIP LOCKED, advisory locks) stays correct, it just never waits.
 */
export async function createPgliteStore(options: PgliteStoreOptions): Promise<Store> {
  const { dataDir, logger } = options;
  let db: PGlite;
  try {
    if (!dataDir.includes('://')) await initializeDataDir(dataDir, logger);
    db = await openPglite(dataDir);
  } catch (error) {
    throw new RelaisError('STORE_UNAVAILABLE', `cannot open PGlite in ${dataDir}`, {
      cause: error,
      details: { dataDir },
    });
  }
  logger.debug({ 'event.action': 'store.opened', dataDir }, 'embedded database opened');
  let closing: Promise<void> | undefined;

  function ensureOpen(): void {
    if (closing) throw new RelaisError('STORE_UNAVAILABLE', 'store is closed');
  }

  const store: Store = {
    driver: 'pglite',

    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      ensureOpen();
      return runQuery<R>(db, sql, params);
    },

    async exec(script: string): Promise<void> {
      ensureOpen();
      await runExec(db, script);
    },

    async copyRows(table: string, columns: readonly string[], rows: CopySource): Promise<number> {
      // A transaction makes the chunked COPY all-or-nothing, as one COPY is on `pg`.
      return store.transaction((tx) => tx.copyRows(table, columns, rows));
    },

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      ensureOpen();
      let failedInside = false;
      try {
        return await db.transaction(async (tx) => {
          try {
            return await fn(runnerQueryable(tx));
          } catch (error) {
            failedInside = true;
            throw error;
          }
        });
      } catch (error) {
        // The callback's own errors pass through untouched; only BEGIN/COMMIT are wrapped.
        if (failedInside) throw error;
        throw toStoreError(error, 'transaction');
      }
    },

    async listen(channel: string, onNotify: (payload: string) => void) {
      if (!CHANNEL_PATTERN.test(channel)) {
        throw new RelaisError('VALIDATION_FAILED', `invalid channel name "${channel}"`);
      }
      ensureOpen();
      const unlisten = await db.listen(channel, onNotify);
      return async () => {
        if (!db.closed) await unlisten();
      };
    },

    async ping(): Promise<void> {
      try {
        ensureOpen();
        await db.query('SELECT 1');
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new RelaisError('STORE_UNAVAILABLE', `database ping failed: ${message}`, {
          cause: error,
        });
      }
    },

    close(): Promise<void> {
      closing ??= db.close();
      return closing;
    },
  };
  return store;
}

async function runQuery<R>(
  runner: PgliteRunner,
  sql: string,
  params?: readonly unknown[],
): Promise<QueryResult<R>> {
  try {
    const result = await runner.query<R>(sql, params ? [...params] : undefined);
    return { rows: result.rows, rowCount: Math.max(result.rows.length, result.affectedRows ?? 0) };
  } catch (error) {
    throw toStoreError(error, 'query');
  }
}

async function runExec(runner: PgliteRunner, script: string): Promise<void> {
  try {
    await runner.exec(script);
  } catch (error) {
    throw toStoreError(error, 'exec');
  }
}

function runnerQueryable(tx: Transaction): Queryable {
  return {
    query: <R>(sql: string, params?: readonly unknown[]) => runQuery<R>(tx, sql, params),
    exec: (script: string) => runExec(tx, script),
    async copyRows(table, columns, rows): Promise<number> {
      const sql = copyStatement(table, columns, "'/dev/blob'");
      let copied = 0;
      for await (const chunk of encodeCopyChunks(rows, columns.length, PGLITE_COPY_CHUNK_ROWS)) {
        try {
          const result = await tx.query(sql, [], { blob: new Blob([chunk]) });
          copied += result.affectedRows ?? 0;
        } catch (error) {
          throw toStoreError(error, 'copy');
        }
      }
      return copied;
    },
  };
}
