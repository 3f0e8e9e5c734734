/**
 * Bus benchmark: persistent 2 KB envelopes published and consumed concurrently on the local
 * RabbitMQ through the RabbitMQ adapter of the bus port, through raw amqplib doing the same
 * on the wire, and through the full consumer runtime (MessageBus) over the adapter; then
 * through MessageBus over the in-memory adapter. Every run gets a fresh quorum queue and the
 * same confirm window and prefetch. The RabbitMQ runs alternate after a warm-up so ordering
 * (JIT, broker state) favours none.
 *
 *   npx tsx bench/bus/index.ts [--messages N] [--window W] [--prefetch P]
 *
 * The last line of output is one JSON object for scripts.
 */
import { createLogger } from '@relais/telemetry';
import { numberArg } from '../lib/args';
import type { RunResult } from './measure';
import {
  envelopeFactory,
  runAdapter,
  runMemory,
  runRaw,
  runRuntime,
  type RunSettings,
} from './runs';

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
  await runRuntime(warmUp);

  const runs = { raw: runRaw, adapter: runAdapter, runtime: runRuntime };
  const results: Record<keyof typeof runs, RunResult[]> = { raw: [], adapter: [], runtime: [] };
  const orders: (keyof typeof runs)[][] = [
    ['raw', 'adapter', 'runtime'],
    ['adapter', 'runtime', 'raw'],
  ];
  for (const [round, order] of orders.entries()) {
    for (const kind of order) {
      const result = await runs[kind](settings);
      results[kind].push(result);
      console.log(`${describe(result)}  (round ${round + 1})`);
    }
  }
  const { raw, adapter, runtime } = results;
  // The in-process run is short and sensitive to GC timing and neighbours: the median of three.
  const memoryRuns: RunResult[] = [];
  for (let i = 0; i < 3; i += 1) {
    const result = await runMemory(settings);
    memoryRuns.push(result);
    console.log(`${describe(result)}  (run ${i + 1})`);
  }
  const memory = [...memoryRuns].sort((a, b) => a.perSecond - b.perSecond)[1]!;

  const rawPerSecond = mean(raw.map((r) => r.perSecond));
  const adapterPerSecond = mean(adapter.map((r) => r.perSecond));
  const ratio = Math.round((adapterPerSecond / rawPerSecond) * 1000) / 1000;
  const runtimePerSecond = mean(runtime.map((r) => r.perSecond));
  const runtimeRatio = Math.round((runtimePerSecond / rawPerSecond) * 1000) / 1000;
  console.log(
    `mean: RabbitMQ adapter ${adapterPerSecond} msg/s, raw amqplib ${rawPerSecond} msg/s, adapter/raw ${ratio} (target ≥ 0.8)`,
  );
  console.log(
    `full runtime over RabbitMQ (MessageBus: JSON envelope encoded, decoded and validated at both ends) ${runtimePerSecond} msg/s, ${runtimeRatio} × raw`,
  );
  console.log(
    `in-memory adapter under the full runtime: median ${memory.perSecond} msg/s (target ≥ 50000)`,
  );
  console.log(
    JSON.stringify({
      adapterPerSecond,
      rawPerSecond,
      ratio,
      inMemoryPerSecond: memory.perSecond,
      runtimePerSecond,
      runtimeRatio,
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
