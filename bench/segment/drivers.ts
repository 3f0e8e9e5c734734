import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { migrateModel } from '@relais/model';
import { migrateKernel, openStore, type Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';
import { createTestSchema } from '@relais/testing';
import { postgresCpuSeconds } from './server-cpu';

/** A migrated relais database on one store driver, plus its raw-COPY reference. */
export interface BenchDriver {
  name: 'postgres' | 'pglite';
  store: Store;
  /** CPU-seconds of the database server so far; undefined when it runs in this process. */
  serverCpuSeconds(): number | undefined;
  /** Connects (and on PGlite creates) the raw-COPY reference's database, untimed. */
  prepareRawCopy(): Promise<RawCopy>;
  close(): Promise<void>;
}

/**
 * The ceiling of the database alone: the CSV as it comes, into an unindexed table of text
 * columns, with no parsing in JavaScript, no normalization and no upsert.
 */
export interface RawCopy {
  /** Returns the rows copied. */
  run(csv: AsyncIterable<string>): Promise<number>;
  close(): Promise<void>;
}

const RAW_TABLE = `CREATE TABLE raw_contacts (
  email text, first_name text, last_name text, country text, city text,
  age text, plan text, signup_at text, tags text
)`;

async function migrated(store: Store, logger: Logger): Promise<Store> {
  await migrateKernel(store, logger);
  await migrateModel(store, logger);
  return store;
}

/** A fresh schema on the PostgreSQL server DATABASE_URL names (the local one by default). */
export async function openPostgres(logger: Logger): Promise<BenchDriver> {
  const schema = await createTestSchema('relais_bench_segment');
  const store = await migrated(await openStore({ databaseUrl: schema.url, logger }), logger);
  return {
    name: 'postgres',
    store,
    serverCpuSeconds: postgresCpuSeconds,
    async prepareRawCopy() {
      const client = new pg.Client({ connectionString: schema.url });
      await client.connect();
      await client.query(RAW_TABLE);
      return {
        async run(csv) {
          const copy = client.query(
            copyFrom('COPY raw_contacts FROM STDIN WITH (FORMAT csv, HEADER true)'),
          );
          await pipeline(Readable.from(csv), copy);
          return copy.rowCount ?? 0;
        },
        close: () => client.end(),
      };
    },
    async close() {
      await store.close();
      await schema.cleanup();
    },
  };
}

/** Rows per COPY blob on PGlite, as the store's own COPY path uses. */
const PGLITE_BLOB_ROWS = 10_000;

/**
 * PGlite in a temporary folder on disk, as embedded mode runs it (not `memory://`). The raw
 * reference runs in a second instance of its own folder: the store holds the first one's
 * only connection.
 */
export async function openPglite(logger: Logger): Promise<BenchDriver> {
  const root = await mkdtemp(join(tmpdir(), 'relais-bench-segment-'));
  const store = await migrated(await openStore({ dataDir: join(root, 'relais'), logger }), logger);
  return {
    name: 'pglite',
    store,
    serverCpuSeconds: () => undefined,
    async prepareRawCopy() {
      const db = await PGlite.create({ dataDir: join(root, 'raw') });
      await db.exec(RAW_TABLE);
      return {
        async run(csv) {
          const sql = `COPY raw_contacts FROM '/dev/blob' WITH (FORMAT csv)`;
          let rows = 0;
          let pending: string[] = [];
          let pendingRows = 0;
          let header = true;
          const flush = async () => {
            if (pending.length === 0) return;
            const result = await db.query(sql, [], { blob: new Blob(pending) });
            rows += result.affectedRows ?? 0;
            pending = [];
            pendingRows = 0;
          };
          for await (let piece of csv) {
            if (header) {
              piece = piece.slice(piece.indexOf('\n') + 1);
              header = false;
            }
            pending.push(piece);
            pendingRows += countLines(piece);
            if (pendingRows >= PGLITE_BLOB_ROWS) await flush();
          }
          await flush();
          return rows;
        },
        close: () => db.close(),
      };
    },
    async close() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

function countLines(text: string): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
}
