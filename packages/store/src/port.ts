import type { Logger } from '@relais/telemetry';

/** The driver behind a Store: a pooled PostgreSQL server or embedded PGlite. */
export type StoreDriver = 'pg' | 'pglite';

/** What a statement returned. `rowCount` is rows affected by DML, rows returned otherwise. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Rows for the bulk path; an async source is pulled chunk by chunk, never buffered whole. */
export type CopySource = Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>;

/**
 * What a statement can run on: the store itself (each call autocommits) or a transaction.
 * Values map to PostgreSQL the same way on both drivers; `int8` comes back as a string
 * (lossless), `json`/`jsonb` as parsed values, timestamps as `Date`.
 */
export interface Queryable {
  /** One parameterized statement. Pass values in `params`, never inside `sql`. */
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>>;
  /**
   * A script of several statements without parameters (migrations, fixtures). Uses the
   * simple query protocol, so it cannot take user input safely; keep it for trusted SQL.
   */
  exec(script: string): Promise<void>;
  /**
   * Bulk insert through COPY. `table` may be schema-qualified (`a.b`); names are quoted.
   * Values: null/undefined → NULL, Date → ISO-8601, Uint8Array → bytea, plain objects and
   * arrays → JSON text (for json/jsonb columns), everything else → `String(value)`.
   * Returns the number of rows copied. Atomic: all rows or none.
   */
  copyRows(table: string, columns: readonly string[], rows: CopySource): Promise<number>;
}

/** Unsubscribes a `listen` callback. */
export type Unlisten = () => Promise<void>;

/**
 * The store port. Both drivers run the same SQL; a contract suite holds them to the same
 * behaviour. On PGlite there is a single connection, so statements and transactions run one
 * at a time: inside `transaction`, use only the `tx` you are given (calling the store itself
 * from inside the callback would wait for the transaction to end, i.e. forever).
 */
export interface Store extends Queryable {
  readonly driver: StoreDriver;
  /** Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` for every NOTIFY on `channel` (a lowercase identifier). Best effort: a
   * lost listening connection is re-established, but notifications sent meanwhile are lost,
   * so callers must also poll.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<Unlisten>;
  /** Throws STORE_UNAVAILABLE unless the database answers now (for /readyz). */
  ping(): Promise<void>;
  /** Waits for running statements, then closes every connection. Idempotent. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /**
   * `postgres://…` selects the `pg` driver with a connection pool. The URL's `options`
   * parameter (e.g. `-c search_path=x`) applies to every connection. Without it, PGlite.
   */
  databaseUrl?: string | undefined;
  /** PGlite data folder, created when missing; `memory://` keeps everything in memory. */
  dataDir?: string | undefined;
  logger: Logger;
  /** Connections in the `pg` pool (default 10); ignored by PGlite. */
  poolSize?: number | undefined;
}

/** A channel name usable unquoted in LISTEN/NOTIFY on both drivers. */
export const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
