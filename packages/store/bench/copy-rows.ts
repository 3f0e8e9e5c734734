/**
 * Measures the bulk path: `npx tsx bench/copy-rows.ts [rows] [pg|pglite]` copies narrow rows
 * (int, text, timestamptz) through Store.copyRows on PGlite (memory) and, when DATABASE_URL
 * or the local default answers, on PostgreSQL; prints rows/s and peak RSS.
 */
import { createTestSchema, probe } from '@relais/testing';
import { createLogger } from '@relais/telemetry';
import { openStore, type Store } from '../src/index';

const count = Number(process.argv[2] ?? 1_000_000);
const only = process.argv[3];
const logger = createLogger({ service: 'store-bench', level: 'silent' });
const base = Date.UTC(2024, 0, 1);

function* rows(): Generator<unknown[]> {
  for (let i = 0; i < count; i++) yield [i, `user${i}@example.com`, new Date(base + i)];
}

async function measure(label: string, store: Store): Promise<void> {
  await store.query('CREATE TABLE bench_rows (id int, email text, created_at timestamptz)');
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const started = performance.now();
  const copied = await store.copyRows('bench_rows', ['id', 'email', 'created_at'], rows());
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  console.log(
    `${label}: ${copied} rows in ${seconds.toFixed(2)} s = ${Math.round(copied / seconds).toLocaleString('en')} rows/s, peak RSS ${Math.round(peakRss / 2 ** 20)} MiB`,
  );
}

if (only !== 'pg') {
  const pglite = await openStore({ dataDir: 'memory://', logger });
  try {
    await measure('pglite (memory://)', pglite);
  } finally {
    await pglite.close();
  }
}

if (only !== 'pglite' && (await probe('postgres')).available) {
  const schema = await createTestSchema('relais_bench');
  const pg = await openStore({ databaseUrl: schema.url, logger });
  try {
    await measure('pg', pg);
  } finally {
    await pg.close();
    await schema.cleanup();
  }
}
