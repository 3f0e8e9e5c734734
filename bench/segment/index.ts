/**
 * Segment benchmark: 1,000,000 generated contacts (realistic names, ~30 weighted domains,
 * typed attributes, tags) streamed as CSV through the campaign API's import endpoint, then
 * an A/B marketing campaign over a segment launched through the API and its recipient
 * resolution (segment → message rows, exclusions and variants) timed alone — on PostgreSQL
 * and on PGlite in a folder on disk. References in the same run, on the same data: raw COPY
 * of the same CSV into an unindexed table, and a plain INSERT … SELECT of the same segment.
 *
 *   npm run bench -- segment [--contacts N] [--seed S]
 *
 * The last line of output is one JSON object for scripts.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@relais/telemetry';
import { probe } from '@relais/testing';
import { numberArg } from '../lib/args';
import { measure } from '../lib/phase';
import { openPglite, openPostgres, type BenchDriver } from './drivers';
import { printReport } from './report';
import { runScenario, type DriverResult, type Workload } from './scenario';
import { generateContactsCsv } from '@relais/campaign';

const SUPPRESSED_ADDRESSES = 1_000;
/** 1 % of the generated addresses are at this domain. */
const SUPPRESSED_DOMAIN = 'acme.io';
/**
 * A realistic newsletter audience: everyone who signed up since mid-2019 and is not tagged
 * churned (about 80 % of the file). It exercises a tag test and a date attribute test, the
 * expensive kind (a pattern check, then a cast, on every row).
 */
const RULE = {
  and: [
    { not: { tag: 'churned' } },
    { attribute: 'signup_at', op: '>=', value: { date: '2019-07-01T00:00:00Z' } },
  ],
};

/**
 * Writes the generated CSV to a file once, before anything is timed, so producing the data
 * is in no figure (a client uploads a file it already has); picks addresses spread over it
 * to suppress.
 */
async function calibrate(contacts: number, seed: number, file: string) {
  const every = Math.max(1, Math.floor(contacts / SUPPRESSED_ADDRESSES));
  const addresses: string[] = [];
  let bytes = 0;
  const out = createWriteStream(file);
  const phase = await measure(async () => {
    let row = -1;
    for await (const piece of generateContactsCsv(contacts, seed)) {
      bytes += Buffer.byteLength(piece);
      if (!out.write(piece)) await once(out, 'drain');
      for (const line of piece.split('\n')) {
        if (line === '') continue;
        if (row >= 0 && row % every === 0 && addresses.length < SUPPRESSED_ADDRESSES) {
          addresses.push(line.slice(0, line.indexOf(',')));
        }
        row++;
      }
    }
    out.end();
    await once(out, 'finish');
    return row;
  });
  return { addresses, bytes, seconds: phase.seconds, cpuSeconds: phase.cpuSeconds };
}

/**
 * The file as text chunks that end at line ends: the raw COPY reference on PGlite sends
 * each chunk as its own COPY, which must not split a row.
 */
async function* readText(file: string): AsyncIterable<string> {
  let rest = '';
  for await (const chunk of createReadStream(file, {
    encoding: 'utf8',
    highWaterMark: 256 * 1024,
  })) {
    const text = rest + (chunk as string);
    const end = text.lastIndexOf('\n') + 1;
    rest = text.slice(end);
    if (end > 0) yield text.slice(0, end);
  }
  if (rest) yield rest;
}

async function main(): Promise<void> {
  const contacts = numberArg('--contacts', 1_000_000);
  const seed = numberArg('--seed', 42);
  const pg = await probe('postgres');
  if (!pg.available) throw new Error(`PostgreSQL is not reachable: ${pg.problem ?? ''}`);
  // Errors only, and on stderr: stdout carries the report and its JSON last line.
  const logger = createLogger({
    service: 'bench-segment',
    level: 'error',
    destination: { write: (line: string) => process.stderr.write(line) },
  });

  const loadAtStart = loadavg()[0]!.toFixed(2);
  const dir = mkdtempSync(join(tmpdir(), 'relais-bench-segment-'));
  const file = join(dir, 'contacts.csv');
  const generated = await calibrate(contacts, seed, file);
  console.log(
    `segment benchmark: ${contacts.toLocaleString('en')} contacts, ${(generated.bytes / 1e6).toFixed(0)} MB of CSV (seed ${seed}); written to a file first (${generated.seconds.toFixed(1)} s, not part of any figure below)`,
  );
  console.log(`segment rule: ${JSON.stringify(RULE)}`);
  const workload: Workload = {
    contacts,
    csv: () => readText(file),
    suppressedAddresses: generated.addresses,
    suppressedDomain: SUPPRESSED_DOMAIN,
    rule: RULE,
  };

  const results: DriverResult[] = [];
  try {
    for (const open of [openPostgres, openPglite]) {
      const driver: BenchDriver = await open(logger);
      try {
        results.push(await runScenario(driver, workload, logger, (line) => console.log(line)));
      } finally {
        await driver.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = printReport(results, contacts);
  console.log(
    `load average at start ${loadAtStart}, at end ${loadavg()[0]!.toFixed(2)} (2 vCPUs: above 2, other work shared the machine)`,
  );
  console.log(JSON.stringify(summary));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
