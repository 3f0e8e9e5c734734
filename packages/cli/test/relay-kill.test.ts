import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILE_FILES, loadProfilesFile, startSimulator, type Simulator } from '@relais/simulator';
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
import { testIdentity } from './identity';

// The relay is SIGKILLed in the middle of a campaign and a new one takes over: the broker
// still holds every unacknowledged `outbound.send`, so no recipient is lost; a message the
// dead relay had handed to the provider but not yet acked is sent again, so duplicates are
// possible and bounded by what it held unacknowledged (its prefetch on each queue).
// Skipped loudly without RabbitMQ and PostgreSQL, a failure under RELAIS_REQUIRE_INFRA=1.

const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const RECIPIENTS = 1000;
const PREFETCH = 32;
// The relay consumes its pool's two queues (transactional, marketing), each with its prefetch.
const MAX_UNACKED = PREFETCH * 2;
// Messages the provider accepted from the first relay before it is killed.
const KILL_AFTER_ACCEPTED = 250;
// Every service but the relay; the bounce processor is not needed for the campaign to end.
const OTHERS = ['campaign', 'segmentation', 'dispatcher', 'analytics'] as const;

const rabbit = await probe('rabbitmq');
const postgres = await probe('postgres');

interface CampaignView {
  status: string;
  counts: Record<'delivered' | 'bounced' | 'failed' | 'expired' | 'suppressed' | 'total', number>;
}

describe.runIf(rabbit.available && postgres.available)(
  'the relay killed with SIGKILL mid-campaign',
  () => {
    let vhost: TestVhost;
    let schema: TestSchema;
    let simulator: Simulator;
    const processes: ChildRun[] = [];
    let env: Record<string, string | undefined>;
    let campaignPort = 0;
    // How many times the providers accepted a message for each recipient.
    const acceptedTimes = new Map<string, number>();
    let accepted = 0;

    const start = async (name: string): Promise<{ run: ChildRun; port: number }> => {
      const run = spawnTs(entry, { args: ['service', name], env, killAfterMs: 300_000 });
      processes.push(run);
      const line = await run.waitForLine((l) => l.includes('runtime.started'), 60_000);
      const record = parseLogLine(line) as { server: { port: number } };
      return { run, port: record.server.port };
    };

    beforeAll(async () => {
      vhost = await createTestVhost('relais_kill');
      schema = await createTestSchema('relais_kill');
      const identity = testIdentity();
      const profiles = await loadProfilesFile(PROFILE_FILES.demo);
      simulator = await startSimulator({
        profiles: profiles.providers,
        seed: profiles.seed,
        // The kill cuts sessions mid-message: the simulator would log each one as an error.
        logger: createLogger({ service: 'simulator', level: 'fatal' }),
      });
      simulator.subscribe((event) => {
        if (event.type !== 'message.accepted') return;
        accepted += 1;
        for (const recipient of event.message.recipients) {
          acceptedTimes.set(recipient, (acceptedTimes.get(recipient) ?? 0) + 1);
        }
      });
      env = {
        AMQP_URL: vhost.url,
        DATABASE_URL: schema.url,
        NAMESPACE: uniqueName('kill'),
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        LOG_LEVEL: 'info',
        ...identity.env,
        RELAY__ROUTES: JSON.stringify(
          simulator.routes().map(({ pattern, host, port }) => ({ pattern, host, port })),
        ),
        RELAY__MX_LOOKUP: 'false',
        RELAY__MAX_CONNECTIONS_PER_DESTINATION: '10',
        RELAY__PREFETCH: String(PREFETCH),
        ...DEMO_DEFERRAL_DELAYS,
      };
      // The first applies the migrations and declares the topology; the rest can then start
      // side by side.
      const began = Date.now();
      campaignPort = (await start(OTHERS[0])).port;
      await Promise.all(OTHERS.slice(1).map((name) => start(name)));
      process.stderr.write(`relay kill -9: services started in ${Date.now() - began} ms\n`);
    }, 150_000);

    afterAll(async () => {
      for (const run of processes) run.signal('SIGTERM');
      await Promise.all(processes.map((run) => run.exited));
      await simulator?.close();
      await vhost?.cleanup();
      await schema?.cleanup();
    });

    it('loses no message and sends again at most what the dead relay held unacknowledged', async () => {
      const tenant = spawnTs(entry, {
        args: ['tenants', 'create', '--name', 'kill', '--json'],
        env,
      });
      expect((await tenant.exited).code).toBe(0);
      const { apiKey } = JSON.parse(tenant.lines.at(-1) ?? '{}') as { apiKey: string };
      const api = `http://127.0.0.1:${campaignPort}`;

      const first = await start('mta-relay');
      const campaignId = await seedDemoCampaign(api, apiKey, RECIPIENTS);
      const killDeadline = Date.now() + 60_000;
      while (accepted < KILL_AFTER_ACCEPTED && Date.now() < killDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(accepted).toBeGreaterThanOrEqual(KILL_AFTER_ACCEPTED);
      first.run.signal('SIGKILL');
      const killed = await first.run.exited;
      expect(killed.signal).toBe('SIGKILL');
      const acceptedAtKill = accepted;
      const restartedAt = Date.now();
      await start('mta-relay');

      const read = async (): Promise<CampaignView> => {
        const response = await fetch(`${api}/v1/campaigns/${campaignId}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        return (await response.json()) as CampaignView;
      };
      let view = await read();
      const deadline = Date.now() + 150_000;
      while (view.status !== 'completed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        view = await read();
      }
      expect(view.status).toBe('completed');
      const { counts } = view;
      const final = counts.delivered + counts.bounced + counts.failed + counts.expired;
      // Lost: a recipient not final in the store, or a provider acceptance not counted.
      expect(counts.total).toBe(RECIPIENTS);
      expect(final + counts.suppressed).toBe(RECIPIENTS);
      expect(acceptedTimes.size).toBe(counts.delivered);
      const duplicates = accepted - acceptedTimes.size;
      process.stderr.write(
        `relay kill -9: accepted before the kill ${acceptedAtKill}, delivered ${counts.delivered}, ` +
          `provider acceptances ${accepted}, lost 0, duplicates ${duplicates} ` +
          `(bound ${MAX_UNACKED}: prefetch ${PREFETCH} × 2 queues); ` +
          `restart to completion ${Date.now() - restartedAt} ms\n`,
      );
      expect(duplicates).toBeLessThanOrEqual(MAX_UNACKED);
    }, 240_000);
  },
);
