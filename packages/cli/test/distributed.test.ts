import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PROFILE_FILES,
  createDkimKeyStore,
  dkimTxtRecord,
  loadProfilesFile,
  startSimulator,
  type Simulator,
} from '@relais/simulator';
import { createLogger } from '@relais/telemetry';
import {
  createTestSchema,
  createTestVhost,
  parseLogLine,
  probe,
  spawnTs,
  uniqueName,
  type ChildRun,
  type TestSchema,
  type TestVhost,
} from '@relais/testing';
import { DEMO_DEFERRAL_DELAYS, seedDemoCampaign } from '../src/commands/demo';
import { SERVICE_NAMES, type ServiceName } from '../src/commands/services';
import { testIdentity } from './identity';

// The demo campaign in the distributed shape: six `relais service <name>` processes over
// RabbitMQ and PostgreSQL, delivering to a provider simulator in this process. Skipped
// loudly without them, and a failure under RELAIS_REQUIRE_INFRA=1 (as in CI).

const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const RECIPIENTS = 2000;
// Debian's dkimpy (python3-dkim + python3-nacl, installed by `npm test`'s setup): a
// verifier independent of relais and of the simulator's mailauth.
const PYTHON = process.env['RELAIS_PYTHON3'] ?? '/usr/bin/python3';
const DKIMPY = fileURLToPath(new URL('../../mail/test/verify-dkim.py', import.meta.url));

function dkimpy(zone: Record<string, string>, message: Buffer) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    const child = execFile(PYTHON, [DKIMPY, JSON.stringify(zone)], (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(message);
  });
}

const rabbit = await probe('rabbitmq');
const postgres = await probe('postgres');

interface CampaignView {
  status: string;
  recipientsResolvedAt: string | null;
  counts: Record<'delivered' | 'bounced' | 'failed' | 'expired' | 'suppressed' | 'total', number>;
}

describe.runIf(rabbit.available && postgres.available)(
  'six services in six processes over RabbitMQ and PostgreSQL',
  () => {
    let vhost: TestVhost;
    let schema: TestSchema;
    let simulator: Simulator;
    const processes = new Map<ServiceName, ChildRun>();
    const ports = new Map<ServiceName, number>();
    let env: Record<string, string | undefined>;
    let accepted = 0;
    let dkimBothPassed = 0;
    let zone: Record<string, string> = {};
    // Every recipient the simulated providers saw (accepted or refused), in order.
    const attempted: string[] = [];

    beforeAll(async () => {
      vhost = await createTestVhost('relais_e2e');
      schema = await createTestSchema('relais_e2e');
      const identity = testIdentity();
      zone = Object.fromEntries(
        identity.publicKeys.map((key) => [
          `${key.selector}._domainkey.${key.domain}`,
          dkimTxtRecord(key.publicKey),
        ]),
      );
      const profiles = await loadProfilesFile(PROFILE_FILES.demo);
      simulator = await startSimulator({
        profiles: profiles.providers,
        seed: profiles.seed,
        dkimResolver: createDkimKeyStore(identity.publicKeys).resolver,
        logger: createLogger({ service: 'simulator', level: 'warn' }),
      });
      simulator.subscribe((event) => {
        if (event.type === 'recipient.refused') attempted.push(...event.recipients);
        if (event.type !== 'message.accepted') return;
        attempted.push(...event.message.recipients);
        accepted += 1;
        const passed = new Set(
          event.message.dkim.filter((c) => c.result === 'pass').map((c) => c.algorithm),
        );
        if (passed.has('rsa-sha256') && passed.has('ed25519-sha256')) dkimBothPassed += 1;
      });
      env = {
        AMQP_URL: vhost.url,
        DATABASE_URL: schema.url,
        NAMESPACE: uniqueName('e2e'),
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        LOG_LEVEL: 'info',
        ...identity.env,
        RELAY__ROUTES: JSON.stringify(
          simulator.routes().map(({ pattern, host, port }) => ({ pattern, host, port })),
        ),
        RELAY__MX_LOOKUP: 'false',
        RELAY__MAX_CONNECTIONS_PER_DESTINATION: '20',
        // The demo providers greylist for half a second: retry on the demo's time scale.
        ...DEMO_DEFERRAL_DELAYS,
      };
      // One at a time: each applies the migrations and declares the topology at start.
      for (const name of SERVICE_NAMES) {
        const run = spawnTs(entry, { args: ['service', name], env, killAfterMs: 600_000 });
        processes.set(name, run);
        const line = await run.waitForLine((l) => l.includes('runtime.started'), 90_000);
        const record = parseLogLine(line) as { server: { port: number } };
        ports.set(name, record.server.port);
      }
    }, 240_000);

    afterAll(async () => {
      for (const run of processes.values()) run.signal('SIGTERM');
      await Promise.all([...processes.values()].map((run) => run.exited));
      await simulator?.close();
      await vhost?.cleanup();
      await schema?.cleanup();
    });

    it('delivers the demo campaign: totals add up, accepted = delivered, DKIM verified twice, hard bounces never mailed again', async () => {
      const tenant = spawnTs(entry, {
        args: ['tenants', 'create', '--name', 'e2e', '--json'],
        env,
      });
      expect((await tenant.exited).code).toBe(0);
      const { apiKey } = JSON.parse(tenant.lines.at(-1) ?? '{}');
      const api = `http://127.0.0.1:${ports.get('campaign')}`;
      const campaignId = await seedDemoCampaign(api, apiKey, RECIPIENTS);

      const read = async (): Promise<CampaignView> => {
        const response = await fetch(`${api}/v1/campaigns/${campaignId}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        return (await response.json()) as CampaignView;
      };
      let view = await read();
      const deadline = Date.now() + 180_000;
      while (view.status !== 'completed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        view = await read();
      }
      expect(view.status).toBe('completed');
      const { counts } = view;
      const final = counts.delivered + counts.bounced + counts.failed + counts.expired;
      expect(counts.total).toBe(RECIPIENTS);
      expect(final + counts.suppressed).toBe(RECIPIENTS);
      expect(counts.suppressed).toBe(20 + 13);
      expect(counts.bounced).toBeGreaterThan(0);
      expect(accepted).toBe(counts.delivered);
      expect(dkimBothPassed).toBe(accepted);

      // Messages signed in the dispatcher's process, as the provider received them, verify
      // with dkimpy too: both signatures, from the published records only.
      const received = simulator.messages().slice(-25);
      expect(received).toHaveLength(25);
      for (const message of received) {
        const { code, output } = await dkimpy(zone, message.raw);
        expect(code, output).toBe(0);
        const results = (JSON.parse(output) as { results: { ok: boolean; algorithm: string }[] })
          .results;
        expect(results.map((r) => [r.algorithm, r.ok])).toEqual([
          ['rsa-sha256', true],
          ['ed25519-sha256', true],
        ]);
      }

      // Analytics serves the same outcome from its own process, with its counters.
      const stats = await fetch(
        `http://127.0.0.1:${ports.get('analytics')}/v1/campaigns/${campaignId}/stats`,
        { headers: { authorization: `Bearer ${apiKey}` } },
      );
      expect(stats.status).toBe(200);
      const body = (await stats.json()) as any;
      expect(body.states.delivered).toBe(counts.delivered);
      expect(body.counters.delivered).toBe(counts.delivered);
      expect(body.counters.bounced_hard + body.counters.bounced_soft).toBe(counts.bounced);

      // The bounce processor suppressed every hard-bounced address (it works beside
      // analytics, so it may finish a moment later), and a second campaign to the same
      // segment excludes them: they are never mailed again.
      const hard = body.counters.bounced_hard as number;
      expect(hard).toBeGreaterThan(0);
      const bounceSuppressions = async () => {
        const response = await fetch(`${api}/v1/suppressions?limit=1000`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        const page = (await response.json()) as { items: { source: string; value: string }[] };
        return page.items.filter((item) => item.source === 'bounce').map((item) => item.value);
      };
      let suppressed = await bounceSuppressions();
      for (let tries = 0; suppressed.length < hard && tries < 60; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        suppressed = await bounceSuppressions();
      }
      expect(suppressed).toHaveLength(hard);
      const first = (await (
        await fetch(`${api}/v1/campaigns/${campaignId}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        })
      ).json()) as { segmentId: string; variants: { templateId: string }[] };
      const call = (method: string, path: string, payload?: unknown) =>
        fetch(`${api}/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: method === 'GET' ? undefined : JSON.stringify(payload ?? {}),
        }).then(async (response) => (await response.json()) as any);
      const again = await call('POST', '/campaigns', {
        name: 'again',
        messageClass: 'marketing',
        from: { email: 'news@mail.relais.test' },
        segmentId: first.segmentId,
        templateId: first.variants[0]!.templateId,
      });
      const attemptedBefore = attempted.length;
      await call('POST', `/campaigns/${again.id}/launch`);
      let second = await call('GET', `/campaigns/${again.id}`);
      const secondDeadline = Date.now() + 180_000;
      while (second.status !== 'completed' && Date.now() < secondDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        second = await call('GET', `/campaigns/${again.id}`);
      }
      expect(second.status).toBe('completed');
      expect(second.counts.suppressed).toBe(20 + 13 + hard);
      const secondAttempts = attempted.slice(attemptedBefore);
      expect(secondAttempts.length).toBeGreaterThan(1000);
      expect(secondAttempts.filter((address) => suppressed.includes(address))).toEqual([]);

      // The one-click link of a received message works against the analytics process
      // (it verifies with the dispatcher's secret from the shared environment): GET only
      // asks, POST unsubscribes.
      const sample = simulator.messages().at(-1)!;
      const header = /^List-Unsubscribe: (.*(?:\r\n[ \t].*)*)/im.exec(
        sample.raw.toString('latin1'),
      );
      const link = /<(https:[^>]+)>/.exec(header?.[1]?.replace(/\r\n[ \t]/g, ' ') ?? '')?.[1];
      expect(link).toMatch(/^https:\/\/links\.mail\.relais\.test\/u\//);
      const local = `http://127.0.0.1:${ports.get('analytics')}${new URL(link!).pathname}`;
      const contactStatus = async () => {
        const found = await call(
          'GET',
          `/contacts?email=${encodeURIComponent(sample.recipients[0]!)}`,
        );
        return found.items?.[0]?.status ?? found.status;
      };
      expect((await fetch(local, { redirect: 'manual' })).status).toBe(200);
      expect(await contactStatus()).toBe('active');
      const posted = await fetch(local, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(posted.status).toBe(200);
      expect(posted.headers.get('set-cookie')).toBeNull();
      expect(await contactStatus()).toBe('unsubscribed');

      // Each service ran its own platform, named after it.
      for (const [name, run] of processes) {
        const started = run.lines
          .map(parseLogLine)
          .find((r) => r?.['event.action'] === 'platform.started');
        expect(started, name).toMatchObject({ service: { name }, relais: { mode: 'distributed' } });
      }
    }, 420_000);
  },
);
