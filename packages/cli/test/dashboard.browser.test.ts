/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The page functions below run in Chromium: they read the DOM, hence the libs above.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@relais/config';
import { startPlatform, type Platform } from '@relais/platform';
import type { ProviderProfileInput } from '@relais/simulator';
import { infraRequired } from '@relais/testing';
import { startServicesWithSimulator } from '../src/commands/embedded-simulator';
import { platformConfigSchema, prepareServices } from '../src/commands/services';
import { DEMO_DEFERRAL_DELAYS } from '../src/commands/demo';
import {
  createTestTenant,
  freePort,
  importContacts,
  launchCampaignToAll,
  poller,
  type ApiCall,
} from './campaign-fixture';

// The web dashboard in a real headless Chromium (Debian's, driven by playwright-core) on an
// embedded platform delivering a campaign to the provider simulator: the page shows the
// numbers GET /v1/dashboard answered, they move without a reload while the campaign runs,
// they end equal to the campaign's stats and the KPI API, a paused slice shows its reason,
// and the console stays clean. The screenshot is kept in test-artifacts/ at the repo root.
// Without chromium the suite is skipped loudly, and fails under RELAIS_REQUIRE_INFRA=1.

const CHROMIUM = process.env['RELAIS_CHROMIUM'] ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const notice = `chromium not found at ${CHROMIUM} (apt-get install chromium, or set RELAIS_CHROMIUM to its path)`;
  if (infraRequired()) {
    throw new Error(
      `${notice}; RELAIS_REQUIRE_INFRA=1 forbids skipping the dashboard browser test`,
    );
  }
  console.warn(`\n!!! SKIPPING THE DASHBOARD BROWSER TEST: ${notice}.\n`);
}

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const SCREENSHOT = join(ARTIFACTS, 'dashboard.png');
const VIEWPORT = { width: 1280, height: 1200 };

// Three providers by their real domains (the simulator answers for them on loopback), each
// paced by the relay at a few messages per second so the campaign runs for several polls.
const DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com'] as const;
const PROFILES: ProviderProfileInput[] = DOMAINS.map((domain) => ({
  name: domain.split('.')[0]!,
  domains: [domain],
  latencyMs: { min: 2, max: 10 },
  maxConnectionsPerClient: 20,
  unknownUserRate: 0.04,
  engagement: {
    openRate: 0.4,
    clickRate: 0.3,
    machineOpenRate: 0.2,
    scannerClickRate: 0,
    openDelayMs: { min: 2_000, max: 8_000 },
    clickDelayMs: { min: 500, max: 2_000 },
    machineDelayMs: { min: 0, max: 300 },
  },
}));
const RATE_PER_SECOND = 6;
const CONTACTS = 180;
const emails = Array.from({ length: CONTACTS }, (_, i) => `reader${i}@${DOMAINS[i % 3]}`);

const waitFor = poller(200);

/** What the page shows, read from its DOM in one go (text as a reader sees it). */
interface Shown {
  generatedAt: string | undefined;
  status: string;
  campaign: Record<string, string>;
  kpis: Record<string, string>;
  pauses: string[];
}

function readPage(page: Page, campaignId: string): Promise<Shown> {
  return page.evaluate((id) => {
    const row = document.querySelector(`tr[data-campaign-id="${id}"]`);
    const campaign: Record<string, string> = {};
    for (const cell of row?.querySelectorAll('[data-field]') ?? []) {
      campaign[cell.getAttribute('data-field')!] = cell.textContent ?? '';
    }
    const kpis: Record<string, string> = {};
    for (const tile of document.querySelectorAll('[data-kpi]')) {
      kpis[tile.getAttribute('data-kpi')!] = tile.textContent ?? '';
    }
    return {
      generatedAt: document.body.dataset['generatedAt'],
      status: document.getElementById('status')?.textContent ?? '',
      campaign,
      kpis,
      pauses: [...document.querySelectorAll('#pauses [data-field="reason"]')].map(
        (reason) => reason.textContent ?? '',
      ),
    };
  }, campaignId);
}

/** A count as the page formats it ("1,234"). */
const asNumber = (text: string | undefined): number => Number((text ?? '').replace(/,/g, ''));

describe.runIf(hasChromium)('the web dashboard in headless Chromium (embedded platform)', () => {
  let dir: string;
  let platform: Platform;
  let browser: Browser;
  let base: string;
  let key: string;
  let call: ApiCall<Record<string, any>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relais-dashboard-'));
    const profiles = join(dir, 'profiles.json');
    await writeFile(profiles, JSON.stringify({ seed: 11, providers: PROFILES }));
    // A fixed port: the dispatcher's tracking base must name it before the server listens.
    const port = await freePort();
    const config = loadConfig(platformConfigSchema(), {
      env: {
        DATA_DIR: 'memory://',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        LOG_LEVEL: 'silent',
        ...DEMO_DEFERRAL_DELAYS,
        // Paced, so the campaign is still running while the page polls; the learned pace
        // is written every second, so the page has some to show.
        RELAY__PROVIDER_PROFILES: JSON.stringify(
          ['google', 'microsoft', 'yahoo'].map((name) => ({
            name,
            initialRatePerSecond: RATE_PER_SECOND,
            maxRatePerSecond: RATE_PER_SECOND,
          })),
        ),
        RELAY__THROTTLE_FLUSH_INTERVAL: '1s',
      },
      argv: [],
    });
    platform = await startPlatform('relais-dashboard-test', config);
    await startServicesWithSimulator(platform, config, prepareServices(config), {
      routesOnly: true,
      profiles,
    });
    await platform.runtime.start();
    base = `http://127.0.0.1:${port}`;
    ({ call, key } = await createTestTenant<Record<string, any>>(platform, base, 'dashboard'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in a container has no user namespace for Chromium's sandbox.
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
      timeout: 20_000,
    });
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.runtime.stop('test finished');
    await rm(dir, { recursive: true, force: true });
  });

  it('shows live numbers equal to the API, updating without reload, and paused slices with reasons', async () => {
    await importContacts(call, emails, { purpose: 'marketing', source: 'dashboard-test' });
    await importContacts(call, emails, { purpose: 'tracking', source: 'dashboard-test' });
    const campaignId = await launchCampaignToAll(call, 'autumn news', {
      name: 'Autumn',
      subject: 'Autumn news',
      html: '<html><body><p>News</p><a href="https://shop.relais.test/autumn">Shop</a></body></html>',
      text: 'News https://shop.relais.test/autumn',
    });

    const page = await browser.newPage({ viewport: VIEWPORT });
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    // Every snapshot the page received, by its generatedAt: what it shows must be one of them.
    const answered = new Map<string, any>();
    page.on('response', (response) => {
      if (!response.url().endsWith('/v1/dashboard') || response.status() !== 200) return;
      void response.json().then(
        (body: any) => answered.set(body.generatedAt, body),
        () => undefined,
      );
    });

    await page.goto(`${base}/dashboard#key=${key}`);
    // The key left the address bar for sessionStorage.
    await page.waitForFunction(() => location.hash === '');
    expect(page.url()).not.toContain(key);

    // Live: some deliveries shown while the campaign is still in flight.
    const first = await waitFor(
      () => readPage(page, campaignId),
      (shown) => asNumber(shown.campaign['delivered']) > 0,
    );
    expect(asNumber(first.campaign['inFlight'])).toBeGreaterThan(0);
    expect(first.status).toMatch(/^Live/);

    // What the page shows is exactly a snapshot the API answered it.
    const checkAgainstItsSnapshot = async (shown: Shown) => {
      const snapshot = await waitFor(
        async () => answered.get(shown.generatedAt!),
        (body) => body !== undefined,
        5_000,
      );
      const row = snapshot.campaigns.find((c: any) => c.campaignId === campaignId);
      expect(asNumber(shown.campaign['recipients'])).toBe(row.recipients);
      expect(asNumber(shown.campaign['delivered'])).toBe(row.states.delivered);
      expect(asNumber(shown.campaign['bounced'])).toBe(row.states.bounced);
      expect(asNumber(shown.campaign['inFlight'])).toBe(row.inFlight);
      for (const metric of ['sent', 'delivered', 'bounced_hard', 'opens_human_unique']) {
        expect(asNumber(shown.kpis[metric])).toBe(snapshot.kpis.metrics[metric]);
      }
    };
    await checkAgainstItsSnapshot(first);

    // A slice paused by the circuit breaker (as analytics records one), on a provider this
    // campaign does not use, so the relay holds nothing of it: its reason appears.
    const reason =
      'hard bounces 21.4 % of 280 attempts in 5 min (at least 16.9 % at 95 % confidence) > 10 %';
    await platform.store.query(
      `INSERT INTO campaign_pauses (id, tenant_id, campaign_id, scope_provider, source, metric, reason, evidence)
       SELECT $1, tenant_id, id, 'orange', 'breaker', 'bounce_rate', $2, $3 FROM campaigns WHERE id = $4`,
      [
        randomUUID(),
        reason,
        JSON.stringify({
          window: '5m',
          attempts: 280,
          bounced: 60,
          rate: 0.214,
          lowerBound: 0.169,
        }),
        campaignId,
      ],
    );
    await waitFor(
      () => readPage(page, campaignId),
      (shown) => shown.pauses.includes(reason),
      10_000,
    );
    expect(await page.getByRole('button', { name: /^Resume autumn news/ }).count()).toBe(1);

    // Updates without a reload: more deliveries while the campaign goes on, and the first
    // people opening (2-8 s after delivery).
    const later = await waitFor(
      () => readPage(page, campaignId),
      (shown) =>
        asNumber(shown.campaign['delivered']) > asNumber(first.campaign['delivered']) &&
        asNumber(shown.kpis['opens_human_unique']) > 0,
    );
    await checkAgainstItsSnapshot(later);
    console.info(
      `[dashboard] page showed ${first.campaign['delivered']} then ${later.campaign['delivered']} delivered of ${later.campaign['recipients']} without reload`,
    );

    await mkdir(ARTIFACTS, { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT });
    console.info(`[dashboard] screenshot: ${SCREENSHOT}`);
    const saved = await readFile(SCREENSHOT);
    expect(saved.equals(png)).toBe(true);
    expect(saved.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    expect(saved.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect({ width: saved.readUInt32BE(16), height: saved.readUInt32BE(20) }).toEqual(VIEWPORT);

    // Resume is one click: the campaign API resumes that slice and the page drops it.
    await page.getByRole('button', { name: /^Resume autumn news/ }).click();
    await waitFor(
      () => readPage(page, campaignId),
      (shown) => shown.pauses.length === 0,
      10_000,
    );
    const { rows: resumed } = await platform.store.query<{ resumed_at: Date | null }>(
      `SELECT resumed_at FROM campaign_pauses WHERE campaign_id = $1`,
      [campaignId],
    );
    expect(resumed.map((row) => row.resumed_at !== null)).toEqual([true]);

    // Once every recipient is final, the page ends on the numbers the owning APIs give.
    const stats = await waitFor(
      () => call('GET', `/campaigns/${campaignId}/stats`),
      (body) => body['status'] === 'completed',
      40_000,
    );
    const settled = await waitFor(
      async () => ({
        shown: await readPage(page, campaignId),
        kpis: (await call('GET', '/kpis?groupBy='))['rows'][0]['metrics'],
      }),
      ({ shown, kpis }) =>
        shown.campaign['status'] === 'completed' &&
        asNumber(shown.kpis['delivered']) === kpis.delivered &&
        asNumber(shown.kpis['sent']) === kpis.sent,
      10_000,
    );
    expect(asNumber(settled.shown.campaign['recipients'])).toBe(CONTACTS);
    expect(asNumber(settled.shown.campaign['delivered'])).toBe(stats['states']['delivered']);
    expect(asNumber(settled.shown.campaign['bounced'])).toBe(stats['states']['bounced']);
    expect(asNumber(settled.shown.campaign['inFlight'])).toBe(0);
    expect(settled.shown.campaign['progress']).toBe('100.0 %');
    expect(asNumber(settled.shown.kpis['bounced_hard'])).toBe(settled.kpis.bounced_hard);
    expect(stats['states']['delivered'] + stats['states']['bounced']).toBe(CONTACTS);

    expect(consoleErrors).toEqual([]);
    await page.close();

    // Without a key in the URL (another tab: its own sessionStorage), the page asks for one.
    const context = await browser.newContext({ viewport: VIEWPORT });
    const typed = await context.newPage();
    await typed.goto(`${base}/dashboard`);
    await typed.getByLabel('API key').fill(key);
    await typed.getByRole('button', { name: 'Open dashboard' }).click();
    await typed.locator(`tr[data-campaign-id="${campaignId}"]`).waitFor({ timeout: 10_000 });
    expect(await typed.getByLabel('API key').isVisible()).toBe(false);
    await context.close();
  }, 55_000);
});
