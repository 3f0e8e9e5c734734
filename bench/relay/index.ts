/**
 * Relay benchmark: the same load through relais and through Postfix, to the same sink.
 *
 * - relais: `smtp-source` → SMTP submission of a `relais service dispatcher` (trusted
 *   network, no AUTH: smtp-source cannot do STARTTLS + AUTH) → RabbitMQ → `relais service
 *   mta-relay` → `smtp-sink`; every submission is recorded in PostgreSQL and confirmed by
 *   the broker before its 250, as in production.
 * - postfix: `smtp-source` → Postfix (configured here as a relay for 127.0.0.0/8, its own
 *   queue directory) → `smtp-sink`.
 * - postfix-dkim: the same Postfix with OpenDKIM as its milter, signing every message with
 *   an RSA-2048 and an Ed25519 key as relais does: the equal-work reference. Before it is
 *   measured, one message through it must arrive with both signatures.
 *
 * For each message size (2 KB and 100 KB) it prints messages/s (smtp-source start until the
 * sink counted the last message), CPU-seconds per 1,000 messages of the relaying processes
 * (relais: dispatcher + relay, not RabbitMQ/PostgreSQL; Postfix: every daemon), and p50/p99
 * latency of probe messages sent during the load (250 from the relay → final "." at a probe
 * sink, and from the probe's connect to that "."). The last line is one JSON object:
 * `{"relaisPerSecond", "postfixPerSecond", "ratio", "postfixDkimPerSecond",
 * "ratioToSigningPostfix", …}` with the 2 KB figures.
 *
 * Then, relais only, the priority lane: `--bulk` marketing messages (default 20,000) put on
 * the relay's marketing queue, to the same destination (site) as transactional probes
 * submitted meanwhile; it prints the probes' p50/p99 with the bulk backlog and without it.
 * And the head-of-line scenario (head-of-line.ts): 100 domains, one slow and throttling,
 * the healthy domains' throughput with and without it.
 *
 *   npm run bench -- relay [--messages N] [--sessions S] [--bulk N] [--hol-messages N]
 *     [--hol-rate R] [--hol-pairs P] [--legs relais,postfix,postfix-dkim]
 *     [--parts throughput,lanes,hol]
 *     [--sizes 2k,100k]
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { proveSigned, startCaptureSink, startOpenDkim } from '../lib/opendkim';
import {
  clockTicksPerSecond,
  machineBusyTicks,
  oldestPidNamed,
  ProcessSampler,
} from '../lib/proc-stats';
import {
  quantile,
  runProbes,
  startProbeSink,
  type ProbeResult,
  type ProbeSink,
} from '../lib/smtp-probe';
import { measureHeadOfLine, type HeadOfLineResult } from './head-of-line';
import { bulkRawBase64, openBus, publishOutbound } from './publish';

const CLI = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
const SINK_DOMAIN = 'sink.bench.test';
const PROBE_DOMAIN = 'probe.bench.test';
// postfix-dkim's proof message goes to a sink of its own, which keeps it.
const PROOF_DOMAIN = 'proof.bench.test';
// relais' d= (DISPATCHER__SENDING_DOMAIN), which OpenDKIM signs with too.
const SENDING_DOMAIN = 'mail.bench.test';
const CONNECTIONS = 20;
// smtp-source's envelope: every message goes to the sink's domain.
const ENVELOPE = { from: 'bench@source.bench.test', to: `bench@${SINK_DOMAIN}` };

const messages = numberArg('--messages', 10_000);
const sessions = numberArg('--sessions', 20);
const bulk = numberArg('--bulk', 20_000);
// Messages to the 99 healthy domains per head-of-line run, and the slow domain's 421 limit.
const holMessages = numberArg('--hol-messages', 20_000);
const holRate = numberArg('--hol-rate', 2);
// Pairs of head-of-line runs (each on a fresh relay); the figures are their medians.
const holPairs = numberArg('--hol-pairs', 3);
// A bulk backlog that stops reaching the probe sink this long is reported as stalled.
const STALL_MS = 60_000;

/** A comma-separated set flag (`--legs relais`); `all` when absent. */
function setArg<T extends string>(flag: string, all: readonly T[]): Set<T> {
  const index = process.argv.indexOf(flag);
  if (index < 0) return new Set(all);
  const given = (process.argv[index + 1] ?? '').split(',');
  const unknown = given.filter((value) => !all.includes(value as T));
  if (unknown.length > 0 || given.length === 0) {
    console.error(`${flag} takes a comma-separated list of ${all.join(', ')}`);
    process.exit(2);
  }
  return new Set(given as T[]);
}
// `--legs relais` (or `postfix`) runs one side only, for profiling; a ratio needs both of
// its legs. `postfix-dkim` is Postfix signing as relais does (OpenDKIM, RSA + Ed25519).
const legs = setArg('--legs', ['relais', 'postfix', 'postfix-dkim'] as const);
// `--parts`: the like-for-like throughput, the priority lane, the head-of-line scenario (the
// last two are relais only).
const parts = setArg('--parts', ['throughput', 'lanes', 'hol'] as const);
// `--sizes 2k` measures one message size only (profiling); the contract's figures are 2k's.
const SIZE_BYTES = { '2k': 2048, '100k': 102_400 } as const;
const SIZES = [...setArg('--sizes', ['2k', '100k'] as const)].map((size) => SIZE_BYTES[size]);
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

interface Latencies {
  /** The relay's 250 → the final "." at the probe sink. */
  p50Ms: number;
  p99Ms: number;
  /** The probe's connect → the final "." at the probe sink (submission included). */
  submissionP50Ms: number;
  submissionP99Ms: number;
  probes: number;
}

function latencies(result: ProbeResult): Latencies {
  const ms = (values: number[], q: number) => Number(quantile(values, q).toFixed(1));
  return {
    p50Ms: ms(result.latenciesMs, 0.5),
    p99Ms: ms(result.latenciesMs, 0.99),
    submissionP50Ms: ms(result.submissionLatenciesMs, 0.5),
    submissionP99Ms: ms(result.submissionLatenciesMs, 0.99),
    probes: result.latenciesMs.length,
  };
}

const describe = (l: Latencies): string =>
  `p50/p99 ${l.p50Ms.toFixed(0)}/${l.p99Ms.toFixed(0)} ms from the 250, ` +
  `${l.submissionP50Ms.toFixed(0)}/${l.submissionP99Ms.toFixed(0)} ms from the connect`;

interface LegResult extends Latencies {
  sizeBytes: number;
  perSecond: number;
  cpuSecondsPer1k: number;
  /** `cpuSecondsPer1k` by relaying process (relais: dispatcher, relay; Postfix, OpenDKIM). */
  processes: Record<string, number>;
  /**
   * Every core's busy time per 1,000 messages, and the part of it each process took: the
   * budget a leg spends, whoever spends it (the other leg's idle services included).
   */
  machine: {
    cpuSecondsPer1k: number;
    relaying: number;
    rabbitmq: number;
    postgresql: number;
    smtpSink: number;
    /** smtp-source, this script's probes, the kernel's own work and anything else. */
    rest: number;
  };
}

/** The shared services and the sink, each with its children (PostgreSQL's backends). */
function infrastructurePids(sink: SmtpSink): Map<string, number> {
  const pids = new Map([['smtpSink', sink.pid]]);
  for (const [name, command] of [
    ['rabbitmq', 'beam.smp'],
    ['postgresql', 'postgres'],
  ] as const) {
    const pid = oldestPidNamed(command);
    if (pid !== undefined) pids.set(name, pid);
  }
  return pids;
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
  const infrastructure = new ProcessSampler();
  infrastructure.start(infrastructurePids(sink), 250, { includeDescendants: true });
  const busyBefore = machineBusyTicks();
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
  const shared = infrastructure.stop();
  const machineSeconds = (machineBusyTicks() - busyBefore) / clockTicksPerSecond();
  const cpu = Object.values(usage).reduce((sum, u) => sum + u.cpuSeconds, 0);
  const per1k = (seconds: number) => Number(((seconds / messages) * 1000).toFixed(2));
  const sharedSeconds = (key: string) => shared[key]?.cpuSeconds ?? 0;
  const result: LegResult = {
    sizeBytes,
    perSecond: run.perSecond,
    cpuSecondsPer1k: per1k(cpu),
    processes: Object.fromEntries(
      Object.entries(usage).map(([processName, u]) => [processName, per1k(u.cpuSeconds)]),
    ),
    machine: {
      cpuSecondsPer1k: per1k(machineSeconds),
      relaying: per1k(cpu),
      rabbitmq: per1k(sharedSeconds('rabbitmq')),
      postgresql: per1k(sharedSeconds('postgresql')),
      smtpSink: per1k(sharedSeconds('smtpSink')),
      rest: per1k(
        machineSeconds -
          cpu -
          sharedSeconds('rabbitmq') -
          sharedSeconds('postgresql') -
          sharedSeconds('smtpSink'),
      ),
    },
    ...latencies(probes),
  };
  const { machine } = result;
  log(
    `${name} ${sizeBytes / 1024} KB: ${result.perSecond.toFixed(0)} msg/s, ` +
      `${result.cpuSecondsPer1k.toFixed(2)} CPU-s/1k (${Object.entries(result.processes)
        .map(([processName, seconds]) => `${processName} ${seconds}`)
        .join(', ')}), latency ${describe(result)} ` +
      `(${result.probes}/${probes.sent} probes); machine ${machine.cpuSecondsPer1k.toFixed(2)} ` +
      `CPU-s/1k: relaying ${machine.relaying}, RabbitMQ ${machine.rabbitmq}, PostgreSQL ` +
      `${machine.postgresql}, smtp-sink ${machine.smtpSink}, rest ${machine.rest}`,
  );
  return result;
}

interface SigningCost {
  rsaPerSecond: number;
  ed25519PerSecond: number;
  /** Both signatures of one message (relais signs each with RSA-2048 and Ed25519). */
  cpuSecondsPer1k: number;
}

/**
 * What DKIM signing alone costs on this machine's CPU, through node:crypto (OpenSSL, the
 * same code any MTA would call): a floor under relais' CPU per message that Postfix, which
 * signs nothing here, does not pay.
 */
function signingCost(): SigningCost {
  const data = Buffer.alloc(700, 'h');
  const rate = (once: () => void) => {
    for (let warm = 0; warm < 20; warm++) once();
    let count = 0;
    const start = performance.now();
    while (performance.now() - start < 1000) {
      once();
      count++;
    }
    return count / ((performance.now() - start) / 1000);
  };
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ed = generateKeyPairSync('ed25519').privateKey;
  const rsaPerSecond = rate(() => sign('sha256', data, rsa));
  const ed25519PerSecond = rate(() => sign(null, createHash('sha256').update(data).digest(), ed));
  const result = {
    rsaPerSecond: Math.round(rsaPerSecond),
    ed25519PerSecond: Math.round(ed25519PerSecond),
    cpuSecondsPer1k: Number((1000 / rsaPerSecond + 1000 / ed25519PerSecond).toFixed(2)),
  };
  log(
    `DKIM signing on one core: RSA-2048 ${result.rsaPerSecond}/s, Ed25519 ` +
      `${result.ed25519PerSecond}/s: ${result.cpuSecondsPer1k} CPU-s per 1,000 messages`,
  );
  return result;
}

async function identityEnv(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'relais-relay-keys-'));
  const run = spawnTs(CLI, {
    args: ['dns', '--domain', SENDING_DOMAIN, '--generate', dir, '--json'],
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
    DISPATCHER__SENDING_DOMAIN: SENDING_DOMAIN,
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
  /** Bulk messages the probe sink counted (all of them unless the backlog stalled). */
  bulkDelivered: number;
  bulkPublishSeconds: number;
  /** Bulk delivered / (publish start → the last one at the sink). */
  bulkPerSecond: number;
  alone: Latencies;
  underBulk: Latencies;
}

/**
 * Transactional probes to the probe sink alone, then while `bulk` marketing messages to the
 * same sink (one site) are published and drain from the marketing queue, the way a campaign
 * of that size sends. The probes start once the first batch is on the bus and stop when the
 * sink has counted every bulk message, or when it counted none for `STALL_MS`.
 */
async function measureLanes(
  amqpUrl: string,
  namespace: string,
  tenantId: string,
  submissionPort: number,
  probeSink: ProbeSink,
): Promise<LaneResult> {
  const alone = await runProbes({
    port: submissionPort,
    domain: PROBE_DOMAIN,
    sink: probeSink,
    intervalMs: 100,
    until: new Promise((resolve) => setTimeout(resolve, 10_000)),
  });
  const bus = await openBus(amqpUrl, namespace);
  try {
    const before = probeSink.others();
    const startMs = performance.now();
    let firstBatch: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      firstBatch = resolve;
    });
    let bulkPublishSeconds = Number.NaN;
    const publishing = publishOutbound(bus, {
      tenantId,
      count: bulk,
      rcptTo: () => `bulk@${PROBE_DOMAIN}`,
      rawBase64: bulkRawBase64(`bulk@${PROBE_DOMAIN}`),
      onFirstBatch: firstBatch,
    }).then(() => {
      bulkPublishSeconds = (performance.now() - startMs) / 1000;
      log(`lanes: ${bulk} marketing messages published in ${bulkPublishSeconds.toFixed(1)} s`);
    });
    await Promise.race([started, publishing]);
    const drained = (async () => {
      await publishing;
      let seen = probeSink.others();
      let progressAtMs = performance.now();
      while (probeSink.others() - before < bulk) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (probeSink.others() !== seen) {
          seen = probeSink.others();
          progressAtMs = performance.now();
        } else if (performance.now() - progressAtMs > STALL_MS) {
          log(
            `lanes: only ${seen - before} of ${bulk} bulk messages arrived, none in ` +
              `${STALL_MS / 1000} s; stopping`,
          );
          return;
        }
      }
    })();
    const underBulk = await runProbes({
      port: submissionPort,
      domain: PROBE_DOMAIN,
      sink: probeSink,
      intervalMs: 100,
      until: drained.catch(() => undefined),
    });
    // A failed publish ends the probes above and is thrown here.
    await drained;
    const bulkDelivered = probeSink.others() - before;
    const result: LaneResult = {
      bulk,
      bulkDelivered,
      bulkPublishSeconds: Number(bulkPublishSeconds.toFixed(1)),
      bulkPerSecond: bulkDelivered / ((probeSink.lastOtherAtMs() - startMs) / 1000),
      alone: latencies(alone),
      underBulk: latencies(underBulk),
    };
    log(
      `lanes: transactional alone ${describe(result.alone)} (${result.alone.probes} probes); ` +
        `during ${bulk} bulk (${result.bulkPerSecond.toFixed(0)} msg/s, same site) ` +
        `${describe(result.underBulk)} (${result.underBulk.probes} probes)`,
    );
    return result;
  } finally {
    await bus.close();
  }
}

interface RelaisResult {
  results: LegResult[];
  lanes: LaneResult | null;
  headOfLine: HeadOfLineResult | null;
}

async function relaisLeg(sink: SmtpSink, probeSink: ProbeSink): Promise<RelaisResult> {
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
  const startRelay = async (relayEnv: Record<string, string>): Promise<ChildRun> => {
    const relay = spawnTs(CLI, {
      args: ['service', 'mta-relay'],
      env: relayEnv,
      nodeArgs: profileArgs('mta-relay'),
      killAfterMs: 3_600_000,
    });
    processes.push(relay);
    await started(relay);
    return relay;
  };
  const stopAll = async (): Promise<void> => {
    const running = processes.splice(0);
    for (const run of running) run.signal('SIGTERM');
    await Promise.all(running.map((run) => run.exited));
  };
  try {
    // The relay first: it applies the migrations the tenant needs.
    const relay = await startRelay(env);
    const tenant = spawnTs(CLI, { args: ['tenants', 'create', '--name', 'bench', '--json'], env });
    if ((await tenant.exited).code !== 0) throw new Error('relais tenants create failed');
    const { tenantId } = JSON.parse(tenant.lines.at(-1) ?? '{}') as { tenantId: string };
    const results: LegResult[] = [];
    let lanes: LaneResult | null = null;
    if (parts.has('throughput') || parts.has('lanes')) {
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
      if (parts.has('throughput')) {
        for (const size of SIZES) {
          results.push(await measure('relais', submissionPort, sink, probeSink, pids, size, false));
        }
      }
      if (parts.has('lanes')) {
        lanes = await measureLanes(
          vhost.url,
          env['NAMESPACE']!,
          tenantId,
          submissionPort,
          probeSink,
        );
      }
    }
    // Its own relay, with the machine to itself: the first two are stopped.
    await stopAll();
    const headOfLine = parts.has('hol')
      ? await measureHeadOfLine({
          amqpUrl: vhost.url,
          tenantId,
          env,
          startRelay,
          healthyMessages: holMessages,
          slowMaxPerSecond: holRate,
          pairs: holPairs,
          log,
        })
      : null;
    return { results, lanes, headOfLine };
  } finally {
    await stopAll();
    await vhost.cleanup();
    await schema.cleanup();
  }
}

/**
 * Postfix alone, or (`dkim`) with an OpenDKIM milter signing every message twice; its CPU
 * then counts as relaying too. The signing leg first sends one message to a capture sink
 * and fails unless it arrived with both signatures.
 */
async function postfixLeg(
  sink: SmtpSink,
  probeSink: ProbeSink,
  dkim: boolean,
): Promise<LegResult[]> {
  const name = dkim ? 'postfix-dkim' : 'postfix';
  const opendkim = dkim ? await startOpenDkim({ domain: SENDING_DOMAIN }) : undefined;
  const capture = dkim ? await startCaptureSink() : undefined;
  const postfix = await startPostfixRelay({
    port: await freePort(),
    routes: {
      [SINK_DOMAIN]: sink.port,
      [PROBE_DOMAIN]: probeSink.port,
      ...(capture === undefined ? {} : { [PROOF_DOMAIN]: capture.port }),
    },
    concurrency: CONNECTIONS,
    ...(opendkim === undefined ? {} : { milter: opendkim.milter }),
  }).catch(async (error: unknown) => {
    await capture?.close();
    await opendkim?.close();
    throw error;
  });
  try {
    const pids = new Map([['postfix', postfix.pid]]);
    if (opendkim !== undefined && capture !== undefined) {
      for (const [instance, pid] of opendkim.pids) pids.set(instance, pid);
      // smtp-source's own From header and envelope, as in the load.
      await runSmtpSource({
        port: postfix.port,
        from: ENVELOPE.from,
        to: `proof@${PROOF_DOMAIN}`,
        messages: 1,
        sizeBytes: 2048,
        sessions: 1,
      }).catch((error: unknown) => {
        throw new Error(
          `postfix-dkim: Postfix did not accept the proof message (a 4xx means an OpenDKIM ` +
            `milter failed on it): ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      const message = await Promise.race([
        capture.message,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error('postfix-dkim: the proof message did not arrive in 30 s')),
            30_000,
          ).unref(),
        ),
      ]);
      log(`postfix-dkim signs: ${proveSigned(message, opendkim)}`);
    }
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
      results.push(await measure(name, postfix.port, sink, probeSink, pids, size, true));
    }
    return results;
  } finally {
    await postfix.close();
    await capture?.close();
    await opendkim?.close();
  }
}

/** One summary line per size comparing leg `a` with leg `b`. */
function compare(aName: string, a: LegResult[], bName: string, b: LegResult[]): void {
  for (let i = 0; i < SIZES.length; i += 1) {
    const [r, p] = [a[i]!, b[i]!];
    log(
      `${SIZES[i]! / 1024} KB: ${aName}/${bName} = ${(r.perSecond / p.perSecond).toFixed(2)} ` +
        `(${r.perSecond.toFixed(0)} vs ${p.perSecond.toFixed(0)} msg/s; CPU-s/1k ` +
        `${r.cpuSecondsPer1k.toFixed(2)} vs ${p.cpuSecondsPer1k.toFixed(2)}, machine ` +
        `${r.machine.cpuSecondsPer1k.toFixed(2)} vs ${p.machine.cpuSecondsPer1k.toFixed(2)}; ` +
        `p99 ${r.p99Ms.toFixed(0)} vs ${p.p99Ms.toFixed(0)} ms)`,
    );
  }
}

async function main(): Promise<void> {
  log(
    `relay bench: ${messages} messages per size, ${sessions} smtp-source sessions; ` +
      `legs ${[...legs].join(',')}, parts ${[...parts].join(',')}`,
  );
  const signing = signingCost();
  const sink = await startSmtpSink();
  const probeSink = await startProbeSink();
  try {
    const relais = legs.has('relais') ? await relaisLeg(sink, probeSink) : undefined;
    const postfix =
      legs.has('postfix') && parts.has('throughput')
        ? await postfixLeg(sink, probeSink, false)
        : undefined;
    const postfixDkim =
      legs.has('postfix-dkim') && parts.has('throughput')
        ? await postfixLeg(sink, probeSink, true)
        : undefined;
    const relaisResults = parts.has('throughput') ? relais?.results : undefined;
    if (relaisResults !== undefined && postfix !== undefined) {
      compare('relais', relaisResults, 'postfix', postfix);
    }
    if (relaisResults !== undefined && postfixDkim !== undefined) {
      compare('relais', relaisResults, 'postfix-dkim', postfixDkim);
    }
    if (postfixDkim !== undefined && postfix !== undefined) {
      compare('postfix-dkim', postfixDkim, 'postfix', postfix);
    }
    const r2 = relais?.results[0];
    const p2 = postfix?.[0];
    const d2 = postfixDkim?.[0];
    const ratio = (a: LegResult | undefined, b: LegResult | undefined): number | null =>
      a === undefined || b === undefined ? null : Number((a.perSecond / b.perSecond).toFixed(3));
    // The first three keys are the contract, against plain Postfix (null for a leg or part
    // not run); the signing Postfix's figures follow.
    process.stdout.write(
      `${JSON.stringify({
        relaisPerSecond: r2 === undefined ? null : Math.round(r2.perSecond),
        postfixPerSecond: p2 === undefined ? null : Math.round(p2.perSecond),
        ratio: ratio(r2, p2),
        postfixDkimPerSecond: d2 === undefined ? null : Math.round(d2.perSecond),
        ratioToSigningPostfix: ratio(r2, d2),
        postfixDkim: postfixDkim ?? null,
        messages,
        signing,
        relais: relais?.results ?? null,
        postfix: postfix ?? null,
        lanes: relais?.lanes ?? null,
        headOfLine: relais?.headOfLine ?? null,
      })}\n`,
    );
  } finally {
    await probeSink.close();
    await sink.close();
  }
}

await main();
