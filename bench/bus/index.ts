/**
 * Bus benchmark: persistent 2 KB messages published and consumed concurrently on the local
 * RabbitMQ, through the relais bus (MessageBus over the RabbitMQ adapter), through raw
 * amqplib doing the same on the wire, and through MessageBus over the in-memory transport.
 * Every run gets a fresh quorum queue and the same confirm window and prefetch. Raw and
 * adapter (plus a diagnostic run of the adapter without MessageBus) alternate after a warm-up so ordering (JIT, broker state) favours neither.
 *
 *   npx tsx bench/bus/index.ts [--messages N] [--window W] [--prefetch P]
 *
 * The last line of output is one JSON object for scripts.
 */
import { createLogger } from '@relais/telemetry';
import type { RunResult } from './measure';
import {
  envelopeFactory,
  runAdapter,
  runMemory,
  runRaw,
  runTransport,
  type RunSettings,
} from './runs';

function numberArg(flag: string, fallback: number): number {
  const index = process.argv.indexOf(flag);
  const raw = index >= 0 ? process.argv[index + 1] : undefined;
  if (raw === undefined) return fallback;
  const value = Number(raw.replaceAll(/[_,]/g, ''));
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${flag} needs a positive integer, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

function describe(result: RunResult): string {
  return [
    `${result.name.padEnd(9)} ${String(result.perSecond).padStart(8)} msg/s`,
    `p50 ${result.latencyP50Ms.toFixed(1).padStart(7)} ms`,
    `p99 ${result.latencyP99Ms.toFixed(1).padStart(7)} ms`,
    `cpu ${result.cpuSecondsPer1k.toFixed(3)} s/1k msgs`,
    `peak rss ${result.peakRssMb} MB`,
  ].join('  ');
}

const mean = (values: number[]): number =>
  Math.round(values.reduce((a, b) => a + b, 0) / values.length);

async function main(): Promise<void> {
  const messages = numberArg('--messages', 100_000);
  const settings: RunSettings = {
    url: process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
    messages,
    confirmWindow: numberArg('--window', 256),
    prefetch: numberArg('--prefetch', 256),
    // Errors only, and on stderr: stdout carries the report and its JSON last line.
    logger: createLogger({
      service: 'bench-bus',
      level: 'error',
      destination: { write: (line: string) => process.stderr.write(line) },
    }),
  };
  console.log(
    `bus benchmark: ${messages} persistent messages of ${envelopeFactory().bytes} bytes per run, confirm window ${settings.confirmWindow}, prefetch ${settings.prefetch}, quorum queues`,
  );

  const warmUp = {
    ...settings,
    messages: Math.min(5_000, Math.max(500, Math.floor(messages / 10))),
  };
  await runRaw(warmUp);
  await runAdapter(warmUp);
  await runTransport(warmUp);

  const runs = { raw: runRaw, adapter: runAdapter, transport: runTransport };
  const results: Record<keyof typeof runs, RunResult[]> = { raw: [], adapter: [], transport: [] };
  const orders: (keyof typeof runs)[][] = [
    ['raw', 'adapter', 'transport'],
    ['adapter', 'transport', 'raw'],
  ];
  for (const [round, order] of orders.entries()) {
    for (const kind of order) {
      const result = await runs[kind](settings);
      results[kind].push(result);
      console.log(`${describe(result)}  (round ${round + 1})`);
    }
  }
  const { raw, adapter, transport } = results;
  const memory = await runMemory(settings);
  console.log(describe(memory));

  const rawPerSecond = mean(raw.map((r) => r.perSecond));
  const adapterPerSecond = mean(adapter.map((r) => r.perSecond));
  const ratio = Math.round((adapterPerSecond / rawPerSecond) * 1000) / 1000;
  const transportPerSecond = mean(transport.map((r) => r.perSecond));
  console.log(
    `diagnostic: the RabbitMQ transport without the MessageBus runtime ${transportPerSecond} msg/s (${Math.round((transportPerSecond / rawPerSecond) * 100) / 100} × raw)`,
  );
  console.log(
    `mean: adapter ${adapterPerSecond} msg/s, raw ${rawPerSecond} msg/s, adapter/raw ${ratio} (target ≥ 0.8); in-memory ${memory.perSecond} msg/s (target ≥ 50000)`,
  );
  console.log(
    JSON.stringify({ adapterPerSecond, rawPerSecond, ratio, inMemoryPerSecond: memory.perSecond }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
