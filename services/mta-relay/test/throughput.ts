/**
 * Measures relay throughput to the simulator (no latency): one provider, prebuilt messages
 * published on the memory bus, timed until every outcome event arrived. Run with
 * `node --import tsx test/throughput.ts [messages] [connections] [prefetch]`. With
 * `SIMULATOR_PORT` set, sends to a simulator already listening there (its own process,
 * serving fast.test), so the relay and the SMTP server do not share one event loop.
 * Prints messages/s and CPU µs per message (user + system of this process) for both runs;
 * without `SIMULATOR_PORT` the CPU figures include the in-process simulator's share.
 */
import { createTransport } from 'nodemailer';
import { outboundSend, plainMessage, routeOf, startHarness, waitFor } from './helpers';

const total = Number(process.argv[2] ?? 20_000);
const connections = Number(process.argv[3] ?? 5);
const prefetch = Number(process.argv[4] ?? 256);

const externalPort = process.env['SIMULATOR_PORT'];
const harness = await startHarness({
  profiles: [{ name: 'fast', domains: ['fast.test'] }],
  settings: (simulator) => ({
    routes: [
      externalPort === undefined
        ? { ...routeOf(simulator, 'fast.test') }
        : { pattern: 'fast.test', host: '127.0.0.1', port: Number(externalPort) },
    ],
    maxConnectionsPerDestination: connections,
    maxMessagesPerConnection: 10_000,
    prefetch,
    // One site takes everything here: let it hold the whole prefetch instead of postponing.
    readyQueueMax: prefetch,
    // Raw throughput, not shaping: the simulated provider's site is never paced.
    providerProfiles: [
      { name: 'default', initialRatePerSecond: 1_000_000, maxRatePerSecond: 1_000_000 },
    ],
  }),
});
const envelopes = Array.from({ length: total }, (_, i) => outboundSend(`u${i}@fast.test`));
const cpuMicros = (usage: NodeJS.CpuUsage): number => usage.user + usage.system;
const started = performance.now();
const relayCpu = process.cpuUsage();
await Promise.all(envelopes.map((envelope) => harness.bus.publish(envelope)));
await waitFor(() => harness.events.length >= total, 600_000);
const relayCpuMicros = cpuMicros(process.cpuUsage(relayCpu));
const relaySeconds = (performance.now() - started) / 1000;
const delivered = harness.events.filter((event) => event.type === 'delivery.delivered').length;

// Reference: nodemailer's pool alone, same connections, same messages, no bus.
const route =
  externalPort === undefined
    ? routeOf(harness.simulator, 'fast.test')
    : { host: '127.0.0.1', port: Number(externalPort) };
const pool = createTransport({
  pool: true,
  host: route.host,
  port: route.port,
  secure: false,
  ignoreTLS: true,
  maxConnections: connections,
  maxMessages: 10_000,
});
const raws = envelopes.map((envelope) => Buffer.from(plainMessage(envelope.data.rcptTo)));
const directStarted = performance.now();
const directCpu = process.cpuUsage();
await Promise.all(
  envelopes.map((envelope, i) =>
    pool.sendMail({
      envelope: { from: envelope.data.mailFrom, to: [envelope.data.rcptTo] },
      raw: raws[i],
    }),
  ),
);
const directCpuMicros = cpuMicros(process.cpuUsage(directCpu));
const directSeconds = (performance.now() - directStarted) / 1000;
pool.close();
await harness.close();

console.log(
  JSON.stringify({
    messages: total,
    connections,
    prefetch,
    delivered,
    relayPerSecond: Math.round(total / relaySeconds),
    relayCpuMicrosPerMessage: Math.round(relayCpuMicros / total),
    nodemailerPoolPerSecond: Math.round(total / directSeconds),
    nodemailerPoolCpuMicrosPerMessage: Math.round(directCpuMicros / total),
  }),
);
