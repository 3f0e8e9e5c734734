/**
 * Relay benchmark: the same load through relais and through Postfix, to the same sink.
 *
 * - relais: `smtp-source` → SMTP submission of a `relais service dispatcher` (trusted
 *   network, no AUTH: smtp-source cannot do STARTTLS + AUTH) → RabbitMQ → `relais service
 *   mta-relay` → `smtp-sink`; every submission is recorded in PostgreSQL and confirmed by
 *   the broker before its 250, as in production.
 * - postfix: `smtp-source` → Postfix (configured here as a relay for 127.0.0.0/8, its own
 *   queue directory) → `smtp-sink`.
 *
 * For each message size (2 KB and 100 KB) it prints messages/s (smtp-source start until the
 * sink counted the last message), CPU-seconds per 1,000 messages of the relaying processes
 * (relais: dispatcher + relay, not RabbitMQ/PostgreSQL; Postfix: every daemon), and p50/p99
 * latency of probe messages sent during the load (250 from the relay → final "." at a probe
 * sink). The last line is one JSON object: `{"relaisPerSecond", "postfixPerSecond",
 * "ratio", …}` with the 2 KB figures.
 *
 * Then the priority lane: `--bulk` marketing messages (default 20,000) put on the relay's
 * marketing queue at once, to the same destination (site) as transactional probes submitted
 * meanwhile; it prints the probes' p50/p99 with the bulk backlog and without it.
 *
 *   npm run bench -- relay [--messages N] [--sessions S] [--bulk N]
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { MessageBus, createRabbitTransport } from '@relais/bus';
import { createEnvelope } from '@relais/domain';
import { createLogger } from '@relais/telemetry';
import {
  createTestSchema,
  createTestVhost,
  probe,
  spawnTs,
  uniqueName,
  type ChildRun,
} from '@relais/testing';
import { numberArg } from '../lib/args';
import { runSmtpSource, startSmtpSink, type SmtpSink } from '../lib/postfix';
import { startPostfixRelay } from '../lib/postfix-relay';
import { ProcessSampler } from '../lib/proc-stats';
import { quantile, runProbes, startProbeSink, type ProbeSink } from '../lib/smtp-probe';

const CLI = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
const SINK_DOMAIN = 'sink.bench.test';
const PROBE_DOMAIN = 'probe.bench.test';
const SIZES = [2048, 102_400];
const CONNECTIONS = 20;
// smtp-source's envelope: every message goes to the sink's domain.
const ENVELOPE = { from: 'bench@source.bench.test', to: `bench@${SINK_DOMAIN}` };

const messages = numberArg('--messages', 10_000);
const sessions = numberArg('--sessions', 20);
const bulk = numberArg('--bulk', 20_000);
// `--legs relais` (or `postfix`) runs one side only, for profiling; the ratio needs both.
const legsIndex = process.argv.indexOf('--legs');
const legs = new Set(
  (legsIndex >= 0 ? (process.argv[legsIndex + 1] ?? '') : 'relais,postfix').split(','),
);
// BENCH_PROFILE=dispatcher,mta-relay writes V8 CPU profiles of those processes to
// BENCH_PROFILE_DIR (default /tmp/relais-relay-profiles) when they exit; one folder per
// process, since the tsx loader's worker thread writes a profile of its own.
const profiled = new Set((process.env['BENCH_PROFILE'] ?? '').split(',').filter(Boolean));
const profileDir = process.env['BENCH_PROFILE_DIR'] ?? join(tmpdir(), 'relais-relay-profiles');
const profileArgs = (name: string): string[] =>
  profiled.has(name) ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : [];

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface LegResult {
  sizeBytes: number;
  perSecond: number;
  cpuSecondsPer1k: number;
  p50Ms: number;
  p99Ms: number;
  probes: number;
}

/** One size through one relay: throughput, CPU of `pids` and probe latencies. */
async function measure(
  name: string,
  entryPort: number,
  sink: SmtpSink,
  probeSink: ProbeSink,
  pids: Map<string, number>,
  sizeBytes: number,
  includeDescendants: boolean,
): Promise<LegResult> {
  const sampler = new ProcessSampler();
  sampler.start(pids, 250, { includeDescendants });
  const load = runSmtpSource({
    port: entryPort,
    ...ENVELOPE,
    messages,
    sizeBytes,
    sessions,
    sink,
    timeoutMs: 900_000,
  });
  const probes = await runProbes({
    port: entryPort,
    domain: PROBE_DOMAIN,
    sink: probeSink,
    intervalMs: 100,
    until: load.catch(() => undefined),
  });
  const run = await load;
  const usage = sampler.stop();
  const cpu = Object.values(usage).reduce((sum, u) => sum + u.cpuSeconds, 0);
  const result: LegResult = {
    sizeBytes,
    perSecond: run.perSecond,
    cpuSecondsPer1k: (cpu / messages) * 1000,
    p50Ms: quantile(probes.latenciesMs, 0.5),
    p99Ms: quantile(probes.latenciesMs, 0.99),
    probes: probes.latenciesMs.length,
  };
  log(
    `${name} ${sizeBytes / 1024} KB: ${result.perSecond.toFixed(0)} msg/s, ` +
      `${result.cpuSecondsPer1k.toFixed(2)} CPU-s/1k, latency p50 ${result.p50Ms.toFixed(0)} ms ` +
      `p99 ${result.p99Ms.toFixed(0)} ms (${result.probes}/${probes.sent} probes)`,
  );
  return result;
}

async function identityEnv(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'relais-relay-keys-'));
  const run = spawnTs(CLI, {
    args: ['dns', '--domain', 'mail.bench.test', '--generate', dir, '--json'],
    env: {},
  });
  const { code, stderr } = await run.exited;
  if (code !== 0) throw new Error(`relais dns failed: ${stderr}`);
  const files = readdirSync(dir);
  const key = (suffix: string) => join(dir, files.find((file) => file.endsWith(suffix)) ?? '');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-days',
      '2',
      '-keyout',
      join(dir, 'tls.key'),
      '-out',
      join(dir, 'tls.crt'),
    ],
    { stdio: 'ignore' },
  );
  return {
    DISPATCHER__SENDING_DOMAIN: 'mail.bench.test',
    DISPATCHER__BOUNCE_DOMAIN: 'bounces.bench.test',
    DISPATCHER__BOUNCE_SECRET: 'b'.repeat(48),
    DISPATCHER__UNSUBSCRIBE_BASE_URL: 'https://links.bench.test',
    DISPATCHER__UNSUBSCRIBE_SECRET: 'u'.repeat(48),
    DISPATCHER__DKIM__RSA__PRIVATE_KEY: key('.rsa.key'),
    DISPATCHER__DKIM__ED25519__PRIVATE_KEY: key('.ed25519.key'),
    DISPATCHER__SUBMISSION__TLS__PRIVATE_KEY: join(dir, 'tls.key'),
    DISPATCHER__SUBMISSION__TLS__CERTIFICATE: join(dir, 'tls.crt'),
  };
}

async function started(run: ChildRun): Promise<void> {
  await run.waitForLine((line) => line.includes('runtime.started'), 120_000);
}

interface LaneResult {
  bulk: number;
  bulkPerSecond: number;
  alone: { p50Ms: number; p99Ms: number; probes: number };
  underBulk: { p50Ms: number; p99Ms: number; probes: number };
}

/**
 * Transactional probes to the probe sink alone, then while `bulk` marketing messages to the
 * same sink (one site) drain from the marketing queue.
 */
async function measureLanes(
  amqpUrl: string,
  namespace: string,
  tenantId: string,
  submissionPort: number,
  probeSink: ProbeSink,
): Promise<LaneResult> {
  const figures = (latencies: number[]) => ({
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    probes: latencies.length,
  });
  const alone = await runProbes({
    port: submissionPort,
    domain: PROBE_DOMAIN,
    sink: probeSink,
    intervalMs: 100,
    until: new Promise((resolve) => setTimeout(resolve, 10_000)),
  });
  const logger = createLogger({ service: 'bench-relay', level: 'warn' });
  const bus = new MessageBus({
    transport: await createRabbitTransport({ url: amqpUrl, logger, connectionName: 'bench' }),
    logger,
    namespace,
  });
  const raw = Buffer.from(
    `From: <news@mail.bench.test>\r\nTo: <bulk@${PROBE_DOMAIN}>\r\nSubject: bulk\r\n\r\n` +
      `${'bulk mail line of a newsletter, repeated to about two kilobytes.\r\n'.repeat(30)}`,
  ).toString('base64');
  const before = probeSink.others();
  const startMs = performance.now();
  const firstAttemptAt = new Date().toISOString();
  for (let sent = 0; sent < bulk; sent += 500) {
    const count = Math.min(500, bulk - sent);
    await bus.publishMany(
      Array.from({ length: count }, () =>
        createEnvelope({
          type: 'outbound.send',
          tenantId,
          data: {
            messageId: randomUUID(),
            messageClass: 'marketing',
            pool: 'default',
            mailFrom: 'bounces@bounces.bench.test',
            rcptTo: `bulk@${PROBE_DOMAIN}`,
            rawBase64: raw,
            firstAttemptAt,
            attempt: 1,
          },
        }),
      ),
    );
  }
  log(
    `lanes: ${bulk} marketing messages queued in ${((performance.now() - startMs) / 1000).toFixed(1)} s`,
  );
  const drained = (async () => {
    while (probeSink.others() - before < bulk) await new Promise((r) => setTimeout(r, 200));
  })();
  const underBulk = await runProbes({
    port: submissionPort,
    domain: PROBE_DOMAIN,
    sink: probeSink,
    intervalMs: 100,
    until: drained,
  });
  const seconds = (performance.now() - startMs) / 1000;
  await bus.close();
  const result: LaneResult = {
    bulk,
    bulkPerSecond: bulk / seconds,
    alone: figures(alone.latenciesMs),
    underBulk: figures(underBulk.latenciesMs),
  };
  log(
    `lanes: transactional p50/p99 alone ${result.alone.p50Ms.toFixed(0)}/${result.alone.p99Ms.toFixed(0)} ms ` +
      `(${result.alone.probes} probes); during ${bulk} bulk (${result.bulkPerSecond.toFixed(0)} msg/s, ` +
      `same site) ${result.underBulk.p50Ms.toFixed(0)}/${result.underBulk.p99Ms.toFixed(0)} ms ` +
      `(${result.underBulk.probes} probes)`,
  );
  return result;
}

async function relaisLeg(
  sink: SmtpSink,
  probeSink: ProbeSink,
): Promise<{ results: LegResult[]; lanes: LaneResult }> {
  for (const kind of ['rabbitmq', 'postgres'] as const) {
    const found = await probe(kind);
    if (!found.available) throw new Error(`${kind} is not reachable: ${found.problem ?? ''}`);
  }
  const vhost = await createTestVhost('relais_bench_relay');
  const schema = await createTestSchema('relais_bench_relay');
  const submissionPort = await freePort();
  const env: Record<string, string> = {
    AMQP_URL: vhost.url,
    DATABASE_URL: schema.url,
    NAMESPACE: uniqueName('relay'),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    ...(await identityEnv()),
    RELAY__ROUTES: JSON.stringify([
      { pattern: SINK_DOMAIN, host: '127.0.0.1', port: sink.port },
      { pattern: PROBE_DOMAIN, host: '127.0.0.1', port: probeSink.port },
    ]),
    RELAY__MX_LOOKUP: 'false',
    RELAY__MAX_CONNECTIONS_PER_DESTINATION: String(CONNECTIONS),
    // A sink has no limits to learn: start the default profile at its ceiling.
    RELAY__PROVIDER_PROFILES: JSON.stringify([
      { name: 'default', initialRatePerSecond: 20_000, maxRatePerSecond: 20_000 },
    ]),
    DISPATCHER__SUBMISSION__SMTP__PORT: String(submissionPort),
    DISPATCHER__SUBMISSION__SMTP__MAX_CONNECTIONS: '1000',
    DISPATCHER__SUBMISSION__RATE_LIMIT__RATE: '100000/s',
    DISPATCHER__SUBMISSION__RATE_LIMIT__BURST: '100000',
  };
  const processes: ChildRun[] = [];
  try {
    // The relay first: it applies the migrations the tenant needs.
    const relay = spawnTs(CLI, {
      args: ['service', 'mta-relay'],
      env,
      nodeArgs: profileArgs('mta-relay'),
      killAfterMs: 3_600_000,
    });
    processes.push(relay);
    await started(relay);
    const tenant = spawnTs(CLI, { args: ['tenants', 'create', '--name', 'bench', '--json'], env });
    if ((await tenant.exited).code !== 0) throw new Error('relais tenants create failed');
    const { tenantId } = JSON.parse(tenant.lines.at(-1) ?? '{}') as { tenantId: string };
    const dispatcher = spawnTs(CLI, {
      args: ['service', 'dispatcher'],
      nodeArgs: profileArgs('dispatcher'),
      env: {
        ...env,
        DISPATCHER__SUBMISSION__TRUSTED_NETWORKS: '127.0.0.1',
        DISPATCHER__SUBMISSION__TRUSTED_TENANT: tenantId,
      },
      killAfterMs: 3_600_000,
    });
    processes.push(dispatcher);
    await started(dispatcher);
    const pids = new Map([
      ['dispatcher', dispatcher.pid],
      ['mta-relay', relay.pid],
    ]);
    // Warm-up: JIT, pools, the controller's first state.
    await runSmtpSource({
      port: submissionPort,
      ...ENVELOPE,
      messages: 500,
      sizeBytes: 2048,
      sessions,
      sink,
    });
    const results: LegResult[] = [];
    for (const size of SIZES) {
      results.push(await measure('relais', submissionPort, sink, probeSink, pids, size, false));
    }
    const lanes = await measureLanes(
      vhost.url,
      env['NAMESPACE']!,
      tenantId,
      submissionPort,
      probeSink,
    );
    return { results, lanes };
  } finally {
    for (const run of processes) run.signal('SIGTERM');
    await Promise.all(processes.map((run) => run.exited));
    await vhost.cleanup();
    await schema.cleanup();
  }
}

async function postfixLeg(sink: SmtpSink, probeSink: ProbeSink): Promise<LegResult[]> {
  const postfix = await startPostfixRelay({
    port: await freePort(),
    routes: { [SINK_DOMAIN]: sink.port, [PROBE_DOMAIN]: probeSink.port },
    concurrency: CONNECTIONS,
  });
  try {
    const pids = new Map([['postfix', postfix.pid]]);
    await runSmtpSource({
      port: postfix.port,
      ...ENVELOPE,
      messages: 500,
      sizeBytes: 2048,
      sessions,
      sink,
    });
    const results: LegResult[] = [];
    for (const size of SIZES) {
      results.push(await measure('postfix', postfix.port, sink, probeSink, pids, size, true));
    }
    return results;
  } finally {
    await postfix.close();
  }
}

async function main(): Promise<void> {
  log(`relay bench: ${messages} messages per size, ${sessions} smtp-source sessions`);
  const sink = await startSmtpSink();
  const probeSink = await startProbeSink();
  try {
    if (!legs.has('postfix')) {
      const { results } = await relaisLeg(sink, probeSink);
      process.stdout.write(`${JSON.stringify({ relais: results })}\n`);
      return;
    }
    const { results: relais, lanes } = await relaisLeg(sink, probeSink);
    const postfix = await postfixLeg(sink, probeSink);
    const [r2, p2] = [relais[0]!, postfix[0]!];
    for (let i = 0; i < SIZES.length; i += 1) {
      const [r, p] = [relais[i]!, postfix[i]!];
      log(
        `${SIZES[i]! / 1024} KB: relais/postfix = ${(r.perSecond / p.perSecond).toFixed(2)} ` +
          `(${r.perSecond.toFixed(0)} vs ${p.perSecond.toFixed(0)} msg/s; CPU-s/1k ` +
          `${r.cpuSecondsPer1k.toFixed(2)} vs ${p.cpuSecondsPer1k.toFixed(2)}; p99 ` +
          `${r.p99Ms.toFixed(0)} vs ${p.p99Ms.toFixed(0)} ms)`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({
        relaisPerSecond: Math.round(r2.perSecond),
        postfixPerSecond: Math.round(p2.perSecond),
        ratio: Number((r2.perSecond / p2.perSecond).toFixed(3)),
        messages,
        relais,
        postfix,
        lanes,
      })}\n`,
    );
  } finally {
    await probeSink.close();
    await sink.close();
  }
}

await main();
