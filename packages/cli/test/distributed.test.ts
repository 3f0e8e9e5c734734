import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PROFILE_FILES,
  createDkimKeyStore,
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
import { seedDemoCampaign } from '../src/commands/demo';
import { SERVICE_NAMES, type ServiceName } from '../src/commands/services';
import { testIdentity } from './identity';

// The demo campaign in the distributed shape: six `relais service <name>` processes over
// RabbitMQ and PostgreSQL, delivering to a provider simulator in this process. Skipped
// loudly without them, and a failure under RELAIS_REQUIRE_INFRA=1 (as in CI).

const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const RECIPIENTS = 2000;

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

    beforeAll(async () => {
      vhost = await createTestVhost('relais_e2e');
      schema = await createTestSchema('relais_e2e');
      const identity = testIdentity();
      const profiles = await loadProfilesFile(PROFILE_FILES.demo);
      simulator = await startSimulator({
        profiles: profiles.providers,
        seed: profiles.seed,
        dkimResolver: createDkimKeyStore(identity.publicKeys).resolver,
        logger: createLogger({ service: 'simulator', level: 'warn' }),
      });
      simulator.subscribe((event) => {
        if (event.type !== 'message.accepted') return;
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
      };
      // One at a time: each applies the migrations and declares the topology at start.
      for (const name of SERVICE_NAMES) {
        const run = spawnTs(entry, { args: ['service', name], env, killAfterMs: 280_000 });
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

    it('delivers the demo campaign: totals add up, accepted = delivered, both DKIM pass', async () => {
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

      // Each service ran its own platform, named after it.
      for (const [name, run] of processes) {
        const started = run.lines
          .map(parseLogLine)
          .find((r) => r?.['event.action'] === 'platform.started');
        expect(started, name).toMatchObject({ service: { name }, relais: { mode: 'distributed' } });
      }
    }, 240_000);
  },
);
