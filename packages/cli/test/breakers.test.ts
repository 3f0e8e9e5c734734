import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@relais/config';
import { startPlatform, type Platform } from '@relais/platform';
import type { ProviderProfileInput, Simulator } from '@relais/simulator';
import { startServicesWithSimulator } from '../src/commands/embedded-simulator';
import { platformConfigSchema, prepareServices } from '../src/commands/services';
import {
  createTestTenant,
  importContacts,
  launchCampaignToAll,
  poller,
  type ApiCall,
} from './campaign-fixture';

// Issue 7 "Automatic protection" end to end, embedded (PGlite, in-process bus), real SMTP to
// the provider simulator. Three providers (their domains map to google, yahoo and orange in
// the provider table) each refuse a baseline 2 % of addresses; the relay sends to each at
// 5 messages/s so the campaign runs for a while. Mid-campaign yahoo starts refusing 20 % of
// addresses as unknown users: its slice must be paused within 60 s (issue 7, Must show),
// held by the relay while google and orange keep sending, shown with its reason on the
// campaign, and one resume call must let the held mail flow again.

const PER_PROVIDER = 300;
const RATE_PER_SECOND = 5;
const PROVIDERS: Record<string, { domain: string; provider: string }> = {
  gmailsim: { domain: 'gmail.com', provider: 'google' },
  yahoosim: { domain: 'yahoo.com', provider: 'yahoo' },
  orangesim: { domain: 'orange.fr', provider: 'orange' },
};
const BASELINE = 0.02;
const profiles: ProviderProfileInput[] = Object.entries(PROVIDERS).map(([name, { domain }]) => ({
  name,
  domains: [domain],
  latencyMs: 1,
  unknownUserRate: BASELINE,
}));
const emails = Object.values(PROVIDERS).flatMap(({ domain }) =>
  Array.from({ length: PER_PROVIDER }, (_, i) => `reader${i}@${domain}`),
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = poller(100);

describe('circuit breakers, end to end (embedded)', () => {
  let dir: string;
  let platform: Platform;
  let simulator: Simulator;
  let call: ApiCall<Record<string, unknown>>;

  // Recipients each simulated provider answered (accepted or refused at RCPT).
  const attempts = (): Record<string, number> =>
    Object.fromEntries(
      Object.entries(simulator.stats()).map(([name, stats]) => [
        name,
        stats.recipientsAccepted + Object.values(stats.refusals).reduce((a, b) => a + b, 0),
      ]),
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relais-breakers-'));
    const file = join(dir, 'profiles.json');
    await writeFile(file, JSON.stringify({ seed: 7, providers: profiles }));
    const paced = ['google', 'yahoo', 'orange'].map((name) => ({
      name,
      initialRatePerSecond: RATE_PER_SECOND,
      maxRatePerSecond: RATE_PER_SECOND,
    }));
    const config = loadConfig(platformConfigSchema(), {
      env: {
        DATA_DIR: 'memory://',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        RELAY__PROVIDER_PROFILES: JSON.stringify(paced),
        RELAY__PAUSE_REFRESH_INTERVAL: '500ms',
        RELAY__PAUSED_RECHECK: '2s',
        // The breakers' defaults: a 5 s sweep, the last minute judged before the last ten,
        // at least 100 attempts, 5 % hard bounces at 95 % confidence.
      },
      argv: [],
    });
    platform = await startPlatform('relais-breakers-test', config);
    const { embedded } = await startServicesWithSimulator(
      platform,
      config,
      prepareServices(config),
      { routesOnly: true, profiles: file },
    );
    simulator = embedded.simulator;
    const { port } = await platform.runtime.start();
    ({ call } = await createTestTenant(platform, `http://127.0.0.1:${port}`, 'breakers'));
  }, 30_000);

  afterAll(async () => {
    await platform.runtime.stop('test finished');
    await rm(dir, { recursive: true, force: true });
  });

  it('pauses the provider that starts hard-bouncing within 60 s, keeps the others sending, resumes in one call', async () => {
    await importContacts(call, emails, { purpose: 'marketing', source: 'breaker-test' });
    const id = await launchCampaignToAll(call, 'breakers', {
      name: 'News',
      subject: 'News',
      text: 'Hello, reader.',
    });

    // Healthy sending first: every provider has answered a few dozen recipients.
    await waitFor(
      async () => attempts(),
      (seen) => Object.keys(PROVIDERS).every((name) => (seen[name] ?? 0) >= 25),
      30_000,
    );
    simulator.updateProfile('yahoosim', { unknownUserRate: 0.2 });
    const changedAt = Date.now();

    const pauseOf = async () => {
      const { rows } = await platform.store.query<{ scope_provider: string; paused_at: Date }>(
        `SELECT scope_provider, paused_at FROM campaign_pauses
         WHERE campaign_id = $1 AND resumed_at IS NULL`,
        [id],
      );
      return rows;
    };
    const paused = await waitFor(pauseOf, (rows) => rows.length > 0, 60_000);
    const seenAfterMs = Date.now() - changedAt;
    const recordedAfterMs = paused[0]!.paused_at.getTime() - changedAt;
    process.stderr.write(
      `breaker: yahoo switched to 20 % unknown users; slice paused ${recordedAfterMs} ms ` +
        `after the change (seen by the test after ${seenAfterMs} ms)\n`,
    );
    // Only the bad provider: the baseline 2 % of the others never trips.
    expect(paused.map((row) => row.scope_provider)).toEqual(['yahoo']);
    expect(recordedAfterMs).toBeLessThan(60_000);

    // Sends already past the hold check (a slot taken, the ready queue) may still finish;
    // after the relay's refresh and the ready wait, nothing new reaches yahoo.
    await sleep(2_500);
    const held = attempts();
    await sleep(5_000);
    const later = attempts();
    const grew = (name: string) => (later[name] ?? 0) - (held[name] ?? 0);
    process.stderr.write(
      `breaker: in the 5 s after the hold yahoo +${grew('yahoosim')}, ` +
        `gmail +${grew('gmailsim')}, orange +${grew('orangesim')}\n`,
    );
    expect(grew('yahoosim')).toBeLessThanOrEqual(2);
    expect(grew('gmailsim')).toBeGreaterThanOrEqual(10);
    expect(grew('orangesim')).toBeGreaterThanOrEqual(10);

    const view = await call('GET', `/campaigns/${id}`);
    expect(view['status']).toBe('sending');
    const pauses = view['pauses'] as Record<string, unknown>[];
    expect(pauses).toHaveLength(1);
    expect(pauses[0]).toMatchObject({
      provider: 'yahoo',
      source: 'breaker',
      metric: 'bounce_rate',
      resumedAt: null,
    });
    expect(String(pauses[0]!['reason'])).toMatch(/provider yahoo hard-bounce rate .* threshold/);
    expect(pauses[0]!['evidence']).toMatchObject({ threshold: 0.05, confidence: 0.95 });
    const evidence = pauses[0]!['evidence'] as { lowerBound: number; sample: number };
    process.stderr.write(`breaker: evidence ${JSON.stringify(evidence)}\n`);
    expect(evidence.lowerBound).toBeGreaterThan(0.05);
    expect(evidence.sample).toBeGreaterThanOrEqual(100);

    // The provider is healthy again; one call resumes the slice and the held mail flows.
    simulator.updateProfile('yahoosim', { unknownUserRate: BASELINE });
    const resumed = await call('POST', `/campaigns/${id}/resume`, {});
    expect((resumed['pauses'] as Record<string, unknown>[])[0]).toMatchObject({
      provider: 'yahoo',
      resumedBy: expect.stringMatching(/^api-key:/) as unknown,
    });
    expect((resumed['pauses'] as { resumedAt: unknown }[])[0]!.resumedAt).not.toBeNull();
    const before = attempts()['yahoosim'] ?? 0;
    await waitFor(
      async () => attempts()['yahoosim'] ?? 0,
      (n) => n >= before + 10,
      20_000,
    );
  }, 110_000);
});
