/**
 * End-to-end benchmark: one campaign of N recipients (default 100,000) from launch to every
 * message final, delivered over SMTP to Postfix's smtp-sink, in both modes:
 *
 * - embedded: `relais up` alone (PGlite, in-process bus);
 * - distributed: six `relais service <name>` processes over RabbitMQ and PostgreSQL
 *   (`--dispatchers K` runs K dispatcher replicas, default 1).
 *
 * In the same run, the ceiling: smtp-source → smtp-sink with the same count and size.
 * Prints messages/s, CPU-seconds per 1k messages and peak RSS per process, the ratio to the
 * ceiling, and as the last line one JSON object:
 * `{"distributedPerSecond", "embeddedPerSecond", "ceilingPerSecond", …}`.
 *
 *   npm run bench -- e2e [--recipients N] [--dispatchers K] [--modes distributed,embedded]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestSchema,
  createTestVhost,
  parseLogLine,
  probe,
  spawnTs,
  uniqueName,
  type ChildRun,
} from '@relais/testing';
import { numberArg } from '../lib/args';
import { ensurePostfixTools, runSmtpSource, startSmtpSink, type SmtpSink } from '../lib/postfix';
import { ProcessSampler, type ProcessUsage } from '../lib/proc-stats';

const CLI = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
const SERVICES = [
  'campaign',
  'segmentation',
  'dispatcher',
  'mta-relay',
  'bounce-processor',
  'analytics',
];
const DOMAINS = 10;
const MESSAGE_BYTES = 2048;

const recipients = numberArg('--recipients', 100_000);
const dispatchers = numberArg('--dispatchers', 1);
const modesArg = process.argv.find((arg) => arg.startsWith('--modes='))?.slice(8);
const modes = (modesArg ?? 'distributed,embedded').split(',');
// BENCH_PROFILE=dispatcher,mta-relay writes a V8 CPU profile of those processes to
// BENCH_PROFILE_DIR (default /tmp/relais-e2e-profiles) when they exit.
const profiled = new Set((process.env['BENCH_PROFILE'] ?? '').split(',').filter(Boolean));
const profileDir = process.env['BENCH_PROFILE_DIR'] ?? join(tmpdir(), 'relais-e2e-profiles');
// One folder per process: the tsx loader's worker thread writes a profile of its own.
const nodeArgsFor = (name: string) =>
  profiled.has(name) ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : [];

interface ModeResult {
  mode: string;
  messages: number;
  seconds: number;
  perSecond: number;
  sinkReceived: number;
  processes: Record<string, ProcessUsage>;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A paragraph of filler that brings the rendered message to about 2 KB, like a newsletter. */
function body(): string {
  const sentence =
    'relais measures the delivery path end to end: rendering, signing, relaying and outcomes. ';
  return sentence.repeat(Math.ceil(900 / sentence.length));
}

async function identityEnv(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'relais-e2e-keys-'));
  const run = spawnTs(CLI, {
    args: ['dns', '--domain', 'mail.bench.test', '--generate', dir, '--json'],
    env: {},
  });
  const { code, stderr } = await run.exited;
  if (code !== 0) throw new Error(`relais dns failed: ${stderr}`);
  const files = readdirSync(dir);
  const key = (suffix: string) => join(dir, files.find((file) => file.endsWith(suffix)) ?? '');
  return {
    DISPATCHER__SENDING_DOMAIN: 'mail.bench.test',
    DISPATCHER__BOUNCE_DOMAIN: 'bounces.bench.test',
    DISPATCHER__BOUNCE_SECRET: 'b'.repeat(48),
    DISPATCHER__UNSUBSCRIBE_BASE_URL: 'https://links.bench.test',
    DISPATCHER__UNSUBSCRIBE_SECRET: 'u'.repeat(48),
    DISPATCHER__DKIM__RSA__PRIVATE_KEY: key('.rsa.key'),
    DISPATCHER__DKIM__ED25519__PRIVATE_KEY: key('.ed25519.key'),
  };
}

async function started(run: ChildRun, what: string): Promise<number> {
  const line = await run.waitForLine((l) => l.includes('runtime.started'), 120_000);
  const record = parseLogLine(line) as { server?: { port?: number } } | undefined;
  const port = record?.server?.port;
  if (port === undefined) throw new Error(`${what}: no port in ${line}`);
  return port;
}

async function api(
  base: string,
  key: string,
  method: string,
  path: string,
  payload?: unknown,
): Promise<Record<string, unknown>> {
  // Embedded mode runs PGlite on the event loop: while it resolves 100k recipients the
  // server's keep-alive timer can expire under a request already sent on the reused
  // socket, which then resets. A GET is safe to repeat, as any client would.
  if (method === 'GET') {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await request(base, key, method, path, payload);
      } catch (error) {
        if (!(error instanceof TypeError) || attempt === 3) throw error;
      }
    }
  }
  return request(base, key, method, path, payload);
}

async function request(
  base: string,
  key: string,
  method: string,
  path: string,
  payload?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': typeof payload === 'string' ? 'text/csv' : 'application/json',
    },
    body:
      payload === undefined
        ? undefined
        : typeof payload === 'string'
          ? payload
          : JSON.stringify(payload),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Seeds N consenting contacts and a ~2 KB template; resolves with the campaign to launch. */
async function seed(base: string, key: string): Promise<string> {
  const lines = ['email,first_name'];
  for (let i = 0; i < recipients; i += 1) lines.push(`reader${i}@d${i % DOMAINS}.bench.test,R${i}`);
  const imported = await api(
    base,
    key,
    'POST',
    '/contacts/imports?consentPurpose=marketing&consentSource=bench',
    lines.join('\n'),
  );
  if (imported['created'] !== recipients) throw new Error(`import: ${JSON.stringify(imported)}`);
  const segment = await api(base, key, 'POST', '/segments', { name: 'all', rules: { all: true } });
  const text = body();
  const template = await api(base, key, 'POST', '/templates', {
    name: 'bench',
    subject: 'Hello {{ first_name }}, the end-to-end benchmark',
    html: `<p>Hello {{ first_name }},</p><p>${text}</p>`,
    text: `Hello {{ first_name }},\n\n${text}`,
  });
  const campaign = await api(base, key, 'POST', '/campaigns', {
    name: 'e2e',
    messageClass: 'marketing',
    from: { email: 'news@mail.bench.test' },
    segmentId: segment['id'],
    templateId: template['id'],
  });
  return String(campaign['id']);
}

async function untilFinal(base: string, key: string, campaignId: string): Promise<number> {
  let lastLog = 0;
  for (;;) {
    const view = (await api(base, key, 'GET', `/campaigns/${campaignId}`)) as {
      status: string;
      counts: Record<string, number>;
    };
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      const c = view.counts;
      log(
        `    ${view.status}: queued ${c['queued']} delivered ${c['delivered']} deferred ${c['deferred']} bounced ${c['bounced']} failed ${c['failed']}`,
      );
    }
    if (view.status === 'completed') return view.counts['delivered'] ?? 0;
    // A client checking once a second, not a load of its own on the database.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function tenantKey(env: Record<string, string | undefined>): Promise<string> {
  const run = spawnTs(CLI, { args: ['tenants', 'create', '--name', 'bench', '--json'], env });
  const { code, stderr } = await run.exited;
  if (code !== 0) throw new Error(`tenants create failed: ${stderr}`);
  return (JSON.parse(run.lines.at(-1) ?? '{}') as { apiKey: string }).apiKey;
}

async function runMode(mode: string, sink: SmtpSink): Promise<ModeResult> {
  const common = {
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    // info: the port each process bound is in its runtime.started line.
    LOG_LEVEL: 'info',
    NAMESPACE: uniqueName('e2e'),
    RELAY__ROUTES: JSON.stringify([
      { pattern: '*.bench.test', host: '127.0.0.1', port: sink.port },
    ]),
    RELAY__MX_LOOKUP: 'false',
    // smtp-sink answers at once; 20 connections keep it busy without queueing at its backlog.
    RELAY__MAX_CONNECTIONS_PER_DESTINATION: '20',
  };
  const children = new Map<string, ChildRun>();
  const cleanups: (() => Promise<void>)[] = [];
  let env: Record<string, string | undefined>;
  let base: string;
  let key: string | undefined;
  try {
    if (mode === 'embedded') {
      const dataDir = mkdtempSync(join(tmpdir(), 'relais-e2e-data-'));
      cleanups.push(() => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })));
      env = { ...common, AMQP_URL: undefined, DATABASE_URL: undefined, DATA_DIR: dataDir };
      // PGlite belongs to one process at a time: create the tenant before the platform.
      key = await tenantKey(env);
      const run = spawnTs(CLI, { args: ['up'], env, killAfterMs: 6 * 3600_000 });
      children.set('relais up', run);
      base = `http://127.0.0.1:${await started(run, 'relais up')}`;
    } else {
      const vhost = await createTestVhost('relais_e2e_bench');
      const schema = await createTestSchema('relais_e2e_bench');
      cleanups.push(vhost.cleanup, schema.cleanup);
      env = { ...common, AMQP_URL: vhost.url, DATABASE_URL: schema.url, ...(await identityEnv()) };
      const names = SERVICES.flatMap((name) =>
        name === 'dispatcher'
          ? Array.from({ length: dispatchers }, (_, i) => (i === 0 ? name : `${name}#${i + 1}`))
          : [name],
      );
      let campaignPort = 0;
      for (const name of names) {
        const run = spawnTs(CLI, {
          args: ['service', name.split('#')[0]!],
          nodeArgs: nodeArgsFor(name),
          env,
          killAfterMs: 6 * 3600_000,
        });
        children.set(name, run);
        const port = await started(run, name);
        if (name === 'campaign') campaignPort = port;
      }
      base = `http://127.0.0.1:${campaignPort}`;
    }
    key ??= await tenantKey(env);
    log(`  ${mode}: seeding ${recipients} contacts`);
    const campaignId = await seed(base, key);
    const before = sink.received();
    const sampler = new ProcessSampler();
    sampler.start(new Map([...children].map(([name, run]) => [name, run.pid])));
    const startedAt = performance.now();
    await api(base, key, 'POST', `/campaigns/${campaignId}/launch`, {});
    // A process that dies mid-run fails the benchmark with its own last words.
    const died = Promise.race(
      [...children].map(([name, run]) =>
        run.exited.then(({ code, signal, stderr }) => {
          throw new Error(`${name} exited (${code ?? signal}) mid-run: ${stderr.slice(-3000)}`);
        }),
      ),
    );
    const delivered = await Promise.race([untilFinal(base, key, campaignId), died]).catch(
      async (error: unknown) => {
        // A request may fail first when the process died: wait for its exit to say why.
        await Promise.race([died, new Promise((resolve) => setTimeout(resolve, 2000))]).catch(
          (death: unknown) => {
            throw death;
          },
        );
        throw error;
      },
    );
    const seconds = (performance.now() - startedAt) / 1000;
    const processes = sampler.stop();
    return {
      mode,
      messages: delivered,
      seconds,
      perSecond: delivered / seconds,
      sinkReceived: sink.received() - before,
      processes,
    };
  } finally {
    for (const run of children.values()) run.signal('SIGTERM');
    await Promise.all([...children.values()].map((run) => run.exited));
    for (const cleanup of cleanups) await cleanup();
  }
}

function report(result: ModeResult, ceiling: number): void {
  log(
    `\n${result.mode}: ${result.messages} delivered in ${result.seconds.toFixed(1)} s = ` +
      `${Math.round(result.perSecond)} messages/s (${((result.perSecond / ceiling) * 100).toFixed(1)} % of the ceiling); ` +
      `the sink received ${result.sinkReceived}`,
  );
  log('  process               CPU-s   CPU-s/1k msg   peak RSS MB');
  let total = 0;
  for (const [name, usage] of Object.entries(result.processes)) {
    total += usage.cpuSeconds;
    log(
      `  ${name.padEnd(20)} ${usage.cpuSeconds.toFixed(1).padStart(6)} ${((usage.cpuSeconds / result.messages) * 1000).toFixed(3).padStart(14)} ${usage.peakRssMb.toFixed(0).padStart(13)}`,
    );
  }
  log(
    `  ${'all'.padEnd(20)} ${total.toFixed(1).padStart(6)} ${((total / result.messages) * 1000).toFixed(3).padStart(14)}`,
  );
}

await probe('postgres');
await probe('rabbitmq');
ensurePostfixTools();
const sink = await startSmtpSink({ backlog: 256 });
try {
  log(
    `e2e benchmark: ${recipients} recipients, ~${MESSAGE_BYTES} B messages, load ${loadavg()[0]?.toFixed(2)}`,
  );
  log('  ceiling: smtp-source → smtp-sink, same count and size');
  const ceiling = await runSmtpSource({
    port: sink.port,
    messages: recipients,
    sizeBytes: MESSAGE_BYTES,
    sessions: 20,
    sink,
  });
  log(`  ceiling: ${Math.round(ceiling.perSecond)} messages/s (${ceiling.seconds.toFixed(1)} s)`);
  const results = new Map<string, ModeResult>();
  for (const mode of modes) {
    const result = await runMode(mode, sink);
    results.set(mode, result);
    report(result, ceiling.perSecond);
  }
  const perSecond = (mode: string) => {
    const result = results.get(mode);
    return result === undefined ? null : Math.round(result.perSecond);
  };
  const cpuPer1k = (mode: string) => {
    const result = results.get(mode);
    if (result === undefined) return null;
    const cpu = Object.values(result.processes).reduce((sum, usage) => sum + usage.cpuSeconds, 0);
    return Number(((cpu / result.messages) * 1000).toFixed(3));
  };
  console.log(
    JSON.stringify({
      distributedPerSecond: perSecond('distributed'),
      embeddedPerSecond: perSecond('embedded'),
      ceilingPerSecond: Math.round(ceiling.perSecond),
      recipients,
      dispatchers,
      distributedCpuSecondsPer1k: cpuPer1k('distributed'),
      embeddedCpuSecondsPer1k: cpuPer1k('embedded'),
    }),
  );
} finally {
  await sink.close();
}
