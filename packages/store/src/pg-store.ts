import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RelaisError } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyStatement, encodeCopyChunks } from './copy-format';
import { toStoreError } from './errors';
import { PgListener } from './pg-listener';
import type { CopySource, Queryable, QueryResult, Store } from './port';

export interface PgStoreOptions {
  databaseUrl: string;
  logger: Logger;
  poolSize?: number | undefined;
}

const PING_TIMEOUT_MS = 5_000;

/** The `pg` driver: a connection pool; each transaction holds one connection until it ends. */
export function createPgStore(options: PgStoreOptions): Store {
  const { logger } = options;
  const config: pg.PoolConfig = {
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'relais',
  };
  const pool = new pg.Pool(config);
  // An idle client losing its connection emits on the pool; unhandled, it would crash the
  // process. The pool already discarded the client, so logging is all there is to do.
  pool.on('error', (error) => {
    logger.warn(
      { err: error, 'event.action': 'store.connection.lost' },
      'idle database connection lost',
    );
  });
  const listener = new PgListener(config, logger);
  let closing: Promise<void> | undefined;

  async function connect(): Promise<pg.PoolClient> {
    if (closing) throw new RelaisError('STORE_UNAVAILABLE', 'store is closed');
    try {
      return await pool.connect();
    } catch (error) {
      throw toStoreError(error, 'connect');
    }
  }

  const store: Store = {
    driver: 'pg',

    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      if (closing) throw new RelaisError('STORE_UNAVAILABLE', 'store is closed');
      return runQuery<R>(pool, sql, params);
    },

    async exec(script: string): Promise<void> {
      await store.query(script);
    },

    async copyRows(table: string, columns: readonly string[], rows: CopySource): Promise<number> {
      const client = await connect();
      try {
        const count = await copyThrough(client, table, columns, rows);
        client.release();
        return count;
      } catch (error) {
        // A COPY cut short leaves the protocol state uncertain: discard the connection.
        client.release(true);
        throw toStoreError(error, 'copy');
      }
    },

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await connect();
      try {
        await client.query('BEGIN');
      } catch (error) {
        client.release(true);
        throw toStoreError(error, 'begin');
      }
      let result: T;
      try {
        result = await fn(clientQueryable(client));
      } catch (error) {
        await rollback(client, logger);
        throw error;
      }
      try {
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (error) {
        await rollback(client, logger);
        throw toStoreError(error, 'commit');
      }
    },

    listen: (channel, onNotify) => listener.listen(channel, onNotify),

    async ping(): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([pool.query('SELECT 1'), timeout]);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new RelaisError('STORE_UNAVAILABLE', `database ping failed: ${message}`, {
          cause: error,
        });
      } finally {
        clearTimeout(timer);
      }
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await listener.close();
        await pool.end();
      })();
      return closing;
    },
  };
  return store;
}

function toResult<R>(result: pg.QueryResult): QueryResult<R> {
  const rows = (result.rows ?? []) as R[];
  return { rows, rowCount: result.rowCount ?? rows.length };
}

/** One statement on the pool or a checked-out client, with driver errors mapped once. */
async function runQuery<R>(
  runner: pg.Pool | pg.PoolClient,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<QueryResult<R>> {
  try {
    return toResult<R>(await runner.query(sql, params as unknown[] | undefined));
  } catch (error) {
    throw toStoreError(error, 'query');
  }
}

function clientQueryable(client: pg.PoolClient): Queryable {
  const tx: Queryable = {
    query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      return runQuery<R>(client, sql, params);
    },
    async exec(script: string): Promise<void> {
      await tx.query(script);
    },
    async copyRows(table, columns, rows): Promise<number> {
      try {
        return await copyThrough(client, table, columns, rows);
      } catch (error) {
        throw toStoreError(error, 'copy');
      }
    },
  };
  return tx;
}

/** Streams rows into COPY … FROM STDIN; `pipeline` waits on the socket, so memory stays flat. */
async function copyThrough(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: CopySource,
): Promise<number> {
  const sink = client.query(copyFrom(copyStatement(table, columns, 'STDIN')));
  await pipeline(Readable.from(encodeCopyChunks(rows, columns.length)), sink);
  return sink.rowCount;
}

async function rollback(client: pg.PoolClient, logger: Logger): Promise<void> {
  try {
    await client.query('ROLLBACK');
    client.release();
  } catch (error) {
    // The connection is unusable (that is usually why we roll back); never pool it again.
    client.release(true);
    logger.debug({ err: error, 'event.action': 'store.rollback.failed' }, 'rollback failed');
  }
}
