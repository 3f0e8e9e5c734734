import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@relais/config';
import { startPlatform, type Platform } from '@relais/platform';
import {
  classifyFeedback,
  parseProfiles,
  type ProviderProfileInput,
  type Simulator,
} from '@relais/simulator';
import { startServicesWithSimulator } from '../src/commands/embedded-simulator';
import { platformConfigSchema, prepareServices } from '../src/commands/services';
import {
  createSegmentOfAll,
  createTemplate,
  createTestTenant,
  importContacts,
  launchCampaign,
  poller,
  type ApiCall,
} from './campaign-fixture';

// Issue 6 end to end, embedded (PGlite, in-process bus), with the real provider simulator:
// it accepts every message, then bounces some addresses later (a DSN to the VERP return
// path) and reports complaints about others (ARF to the feedback address), over SMTP to the
// bounce processor's inbound listener that `relais up` / `relais demo` run on loopback.

const SEED = 6;
const PROFILE: ProviderProfileInput = {
  name: 'later',
  domains: ['later.test'],
  latencyMs: 1,
  asyncBounceRate: 0.2,
  asyncBounceReasons: ['userunknown'],
  asyncBounceDelayMs: { min: 200, max: 1500 },
  complaintRate: 0.2,
  complaintDelayMs: { min: 200, max: 2000 },
};
const CONTACTS = 40;
const emails = Array.from({ length: CONTACTS }, (_, i) => `reader${i}@later.test`);
const [profile] = parseProfiles([PROFILE]);
const fates = new Map(emails.map((email) => [email, classifyFeedback(profile!, email, SEED)]));
const bouncing = emails.filter((email) => fates.get(email)?.kind === 'bounce');
const complaining = emails.filter((email) => fates.get(email)?.kind === 'complaint');

const waitFor = poller(50);

describe('later bounces and complaints, end to end (embedded)', () => {
  let dir: string;
  let platform: Platform;
  let simulator: Simulator;
  let call: ApiCall<Record<string, unknown>>;
  let tenantId: string;
  // Every recipient the simulator saw per campaign (accepted or refused).
  let attempted: string[] = [];
  const complainedAt = new Map<string, number>();

  const inFlight = async (campaignId: string) => {
    const { rows } = await platform.store.query<{ n: string }>(
      `SELECT count(*) AS n FROM messages
       WHERE campaign_id = $1 AND state IN ('pending', 'queued', 'sent', 'deferred')`,
      [campaignId],
    );
    return Number(rows[0]?.n ?? 0);
  };

  const runCampaign = async (segmentId: string, templateId: string, name: string) => {
    const id = await launchCampaign(call, { name, segmentId, templateId });
    await waitFor(
      () => call('GET', `/campaigns/${id}`),
      (view) => view['recipientsResolvedAt'] !== null,
    );
    await waitFor(
      () => inFlight(id),
      (n) => n === 0,
    );
    return id;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relais-feedback-'));
    const profiles = join(dir, 'profiles.json');
    // YAML is a superset of JSON.
    await writeFile(profiles, JSON.stringify({ seed: SEED, providers: [PROFILE] }));
    const config = loadConfig(platformConfigSchema(), {
      env: { DATA_DIR: 'memory://', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'silent' },
      argv: [],
    });
    platform = await startPlatform('relais-feedback-test', config);
    const prepared = prepareServices(config);
    const { embedded, services } = await startServicesWithSimulator(platform, config, prepared, {
      routesOnly: true,
      profiles,
    });
    expect(services.bounces?.inboundPort).toBeGreaterThan(0);
    simulator = embedded.simulator;
    simulator.subscribe((event) => {
      if (event.type === 'message.accepted') attempted.push(...event.message.recipients);
      if (event.type === 'recipient.refused') attempted.push(...event.recipients);
      if (event.type === 'complaint.sent') complainedAt.set(event.report.recipient, Date.now());
    });
    const { port } = await platform.runtime.start();
    ({ call, tenantId } = await createTestTenant(platform, `http://127.0.0.1:${port}`, 'feedback'));
  }, 30_000);

  afterAll(async () => {
    await platform.runtime.stop('test finished');
    await rm(dir, { recursive: true, force: true });
  });

  it('suppresses later hard bounces, unsubscribes complainers within 60 s, and mails neither again', async () => {
    // The seed gives both fates to a few of the forty addresses.
    expect(bouncing.length).toBeGreaterThan(2);
    expect(complaining.length).toBeGreaterThan(2);
    await importContacts(call, emails, { purpose: 'marketing', source: 'feedback-test' });
    const segmentId = await createSegmentOfAll(call);
    const templateId = await createTemplate(call, {
      name: 'Hello',
      subject: 'Hello',
      text: 'Hello, reader.',
    });

    // Notes when each contact is first seen unsubscribed, from before the first send on.
    const unsubscribedAt = new Map<string, number>();
    let watching = false;
    const watcher = setInterval(() => {
      if (watching) return;
      watching = true;
      void platform.store
        .query<{ email: string }>(
          `SELECT email FROM contacts WHERE tenant_id = $1 AND status = 'unsubscribed'`,
          [tenantId],
        )
        .then(({ rows }) => {
          const now = Date.now();
          for (const { email } of rows)
            if (!unsubscribedAt.has(email)) unsubscribedAt.set(email, now);
        })
        .finally(() => {
          watching = false;
        });
    }, 25);

    await runCampaign(segmentId, templateId, 'first');
    expect([...attempted].sort()).toEqual([...emails].sort());

    // Every later report sent over SMTP and processed by the worker.
    await waitFor(
      async () => simulator.feedbackReports().length,
      (n) => n === bouncing.length + complaining.length,
    );
    expect(simulator.stats()['later']).toMatchObject({ feedbackFailures: 0 });
    await waitFor(
      async () => unsubscribedAt.size,
      (n) => n === complaining.length,
      60_000,
    );
    clearInterval(watcher);
    // From the moment the listener had the whole report (the simulator's complaint.sent
    // comes after the 250, by which time the worker may be done) to the unsubscribe seen.
    const { rows: received } = await platform.store.query<{ email: string; received_at: Date }>(
      `SELECT m.email, r.received_at FROM inbound_reports r
       JOIN messages m ON m.id = (r.verdict ->> 'messageId')::uuid
       WHERE r.kind = 'feedback'`,
    );
    const sentAt = new Map(received.map((row) => [row.email, row.received_at.getTime()]));
    const latencies = complaining.map(
      (email) =>
        (unsubscribedAt.get(email) ?? Infinity) -
        Math.min(sentAt.get(email) ?? 0, complainedAt.get(email) ?? Infinity),
    );
    const worst = Math.max(...latencies);
    process.stderr.write(
      `complaint → unsubscribed: ${complaining.length} complaints, worst ${worst} ms, ` +
        `median ${[...latencies].sort((x, y) => x - y)[Math.floor(latencies.length / 2)]} ms\n`,
    );
    expect(worst).toBeLessThan(60_000);

    const { rows: suppressions } = await platform.store.query<{ value: string; reason: string }>(
      `SELECT value, reason FROM suppressions WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(suppressions.sort((a, b) => a.value.localeCompare(b.value))).toEqual(
      [
        ...bouncing.map((value) => ({ value, reason: 'hard bounce: userunknown 5.1.1' })),
        ...complaining.map((value) => ({ value, reason: 'complaint' })),
      ].sort((a, b) => a.value.localeCompare(b.value)),
    );
    const { rows: reports } = await platform.store.query<{ kind: string; n: string }>(
      `SELECT kind, count(*) AS n FROM inbound_reports WHERE processed_at IS NOT NULL AND error IS NULL GROUP BY kind ORDER BY kind`,
    );
    expect(reports).toEqual([
      { kind: 'bounce', n: String(bouncing.length) },
      { kind: 'feedback', n: String(complaining.length) },
    ]);

    // The same segment again: the bounced and complaining addresses are never attempted.
    attempted = [];
    await runCampaign(segmentId, templateId, 'second');
    const excluded = new Set([...bouncing, ...complaining]);
    expect(attempted.filter((email) => excluded.has(email))).toEqual([]);
    expect(attempted).toHaveLength(CONTACTS - excluded.size);
  }, 60_000);
});
