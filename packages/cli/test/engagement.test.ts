import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@relais/config';
import { startPlatform, type Platform } from '@relais/platform';
import {
  classifyEngagement,
  parseProfiles,
  trackingUrlsOf,
  type ProviderProfileInput,
  type Simulator,
} from '@relais/simulator';
import { startServicesWithSimulator } from '../src/commands/embedded-simulator';
import { platformConfigSchema, prepareServices } from '../src/commands/services';
import {
  createTestTenant,
  freePort,
  importContacts,
  launchCampaignToAll,
  poller,
  type ApiCall,
} from './campaign-fixture';

// Issue 7 end to end, embedded: the dispatcher tracks the recipients whose consent allows
// it, the simulator's recipients open and click through the real tracking URLs (30 % of
// them behind an Apple MPP-like proxy, 10 % behind a link scanner), and analytics' human
// open figure counts the people only.

const SEED = 7;
const PROFILE: ProviderProfileInput = {
  name: 'engaged',
  domains: ['engaged.test'],
  latencyMs: 1,
  engagement: {
    openRate: 0.5,
    clickRate: 0.4,
    machineOpenRate: 0.3,
    scannerClickRate: 0.1,
    // People open well after the 2 s machine window, proxies and scanners within it.
    openDelayMs: { min: 4_000, max: 9_000 },
    clickDelayMs: { min: 500, max: 2_000 },
    machineDelayMs: { min: 0, max: 400 },
  },
};
const CONTACTS = 120;
const UNTRACKED = 12;
const emails = Array.from({ length: CONTACTS }, (_, i) => `reader${i}@engaged.test`);
const tracked = emails.slice(UNTRACKED);
const [profile] = parseProfiles([PROFILE]);
const fates = new Map(
  tracked.map((email) => [email, classifyEngagement(profile!.engagement, email, SEED)]),
);
const expected = {
  humanOpens: tracked.filter((email) => fates.get(email)?.humanOpen).length,
  machineOpens: tracked.filter((email) => fates.get(email)?.privacyProxy).length,
  humanClicks: tracked.filter((email) => fates.get(email)?.humanClick).length,
  // A person behind a link scanner clicks a link the scanner walked (with every other link)
  // seconds before: inside the 10 s burst window, so that click is counted as the scanner's.
  humanClicksAfterScanner: tracked.filter(
    (email) => fates.get(email)?.humanClick && fates.get(email)?.scanner,
  ).length,
};

const waitFor = poller(100);

describe('engagement through the real tracking URLs, end to end (embedded)', () => {
  let dir: string;
  let platform: Platform;
  let simulator: Simulator;
  let call: ApiCall<Record<string, unknown>>;
  const htmlByRecipient = new Map<string, Buffer>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relais-engagement-'));
    const profiles = join(dir, 'profiles.json');
    await writeFile(profiles, JSON.stringify({ seed: SEED, providers: [PROFILE] }));
    // A fixed port: the dispatcher's tracking base must name it before the server listens.
    const port = await freePort();
    const config = loadConfig(platformConfigSchema(), {
      env: {
        DATA_DIR: 'memory://',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        LOG_LEVEL: 'silent',
      },
      argv: [],
    });
    platform = await startPlatform('relais-engagement-test', config);
    const prepared = prepareServices(config);
    expect(prepared.dispatcher?.settings.tracking.baseUrl).toBe(`http://127.0.0.1:${port}`);
    const { embedded } = await startServicesWithSimulator(platform, config, prepared, {
      routesOnly: true,
      profiles,
    });
    simulator = embedded.simulator;
    simulator.subscribe((event) => {
      if (event.type !== 'message.accepted') return;
      for (const recipient of event.message.recipients) {
        htmlByRecipient.set(recipient, event.message.raw);
      }
    });
    await platform.runtime.start();
    ({ call } = await createTestTenant(platform, `http://127.0.0.1:${port}`, 'engagement'));
  }, 30_000);

  afterAll(async () => {
    await platform.runtime.stop('test finished');
    await rm(dir, { recursive: true, force: true });
  });

  it('tracks consenting recipients only and excludes machine opens from human opens', async () => {
    await importContacts(call, emails, { purpose: 'marketing', source: 'engagement-test' });
    await importContacts(call, tracked, { purpose: 'tracking', source: 'engagement-test' });
    const id = await launchCampaignToAll(call, 'sale', {
      name: 'Sale',
      subject: 'Sale',
      html: '<html><body><p>Sale!</p><a href="https://shop.relais.test/sale">Shop</a> <a href="https://blog.relais.test/">Blog</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>',
      text: 'Sale! https://shop.relais.test/sale',
    });
    await waitFor(
      async () => htmlByRecipient.size,
      (n) => n === CONTACTS,
    );
    // Every scheduled open and click performed (the slowest: 9 s + 2 s after delivery).
    await waitFor(
      async () => simulator.pendingEngagement(),
      (n) => n === 0,
    );

    // Consent: no pixel and no rewritten link for those without a tracking consent.
    const untracked = emails
      .slice(0, UNTRACKED)
      .map((email) => trackingUrlsOf(htmlByRecipient.get(email)!));
    expect(untracked.every((urls) => urls.pixel === undefined && urls.links.length === 0)).toBe(
      true,
    );
    const withTracking = tracked.map((email) => trackingUrlsOf(htmlByRecipient.get(email)!));
    expect(withTracking.every((urls) => urls.pixel !== undefined && urls.links.length === 2)).toBe(
      true,
    );

    const performed = simulator.engagement();
    expect(performed).toMatchObject({
      failed: 0,
      skipped: 0,
      humanOpens: expected.humanOpens,
      machineOpens: expected.machineOpens,
      humanClicks: expected.humanClicks,
    });
    // Opens and clicks are recorded before the pixel or redirect is answered.
    const figures = await call('GET', `/campaigns/${id}/engagement`);
    const delivered = Number(figures['delivered']);
    console.info(
      `[engagement] ${CONTACTS} recipients, ${tracked.length} tracked; simulated: ${expected.humanOpens} human opens, ` +
        `${expected.machineOpens} MPP proxy opens (${((100 * expected.machineOpens) / tracked.length).toFixed(1)} %), ` +
        `${expected.humanClicks} human clicks, ${performed.scannerClicks} scanner fetches; measured: ` +
        `humanUniqueOpens ${String(figures['humanUniqueOpens'])}, uniqueOpens ${String(figures['uniqueOpens'])}, ` +
        `machineOpens ${String(figures['machineOpens'])}, humanUniqueClicks ${String(figures['humanUniqueClicks'])}, ` +
        `machineClicks ${String(figures['machineClicks'])}, human open rate ${(Number(figures['humanUniqueOpens']) / delivered).toFixed(3)} ` +
        `vs all-opens rate ${(Number(figures['uniqueOpens']) / delivered).toFixed(3)}`,
    );
    expect(delivered).toBe(CONTACTS);
    // Tolerance 0 for opens: every human open is 4 s or more after delivery, every proxy
    // fetch carries the proxy's agent, so the detector has no borderline case here.
    expect(figures['humanUniqueOpens']).toBe(expected.humanOpens);
    expect(figures['machineOpens']).toBe(expected.machineOpens);
    expect(figures['uniqueOpens']).toBe(expected.humanOpens + expected.machineOpens);
    // Clicks have a borderline case: a person behind a link scanner who clicks inside the
    // scanner's burst window is taken for the scanner. Whether their click lands inside it
    // depends on real timing (a loaded machine stretches the scanner's burst), so their
    // clicks may or may not count; every other person's click counts exactly.
    const humanClicks = Number(figures['humanUniqueClicks']);
    expect(humanClicks).toBeGreaterThanOrEqual(
      expected.humanClicks - expected.humanClicksAfterScanner,
    );
    expect(humanClicks).toBeLessThanOrEqual(expected.humanClicks);
    expect(Number(figures['machineClicks'])).toBeGreaterThanOrEqual(performed.scannerClicks);
  }, 55_000);
});
