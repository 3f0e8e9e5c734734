import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignId, MessageId, TenantId } from '@relais/domain';
import type { Store } from '@relais/store';
import {
  DASHBOARD_ASSETS,
  analyticsApi,
  analyticsOpenApi,
  dashboardPage,
  onDeliveryBounced,
  onDeliveryDeferred,
  onDeliveryDelivered,
} from '../src/index';
import { drivers, logger, openMigrated, portsFor, seedTenant } from './fixtures';
import { delivery, seedKpiCampaign } from './kpi-fixtures';

// GET /v1/dashboard on both store drivers: every figure it shows is checked against the API
// that owns it (campaign stats, KPIs), so the page can never show a number of its own.

describe.each(drivers)('dashboard snapshot on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let server: Server;
  let origin: string;
  let tenantId: TenantId;
  let key: string;
  let otherKey: string;
  let older: CampaignId;
  let newer: CampaignId;
  let activePause: string;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    const app = express();
    app.use('/v1', analyticsApi({ store, logger }));
    app.use('/dashboard', dashboardPage());
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    ({ tenantId, key } = await seedTenant(store));
    const other = await seedTenant(store);
    otherKey = other.key;
    const now = Date.now();
    // Older: done (gmail 2 delivered, 1 hard bounce). Newer: one delivered, one deferred,
    // two still queued (yahoo and hotmail), through pool bulk-a.
    const first = await seedKpiCampaign(store, tenantId, ['gmail.com', 'gmail.com', 'gmail.com']);
    const second = await seedKpiCampaign(store, tenantId, [
      'yahoo.com',
      'yahoo.com',
      'yahoo.com',
      'hotmail.fr',
    ]);
    older = first.campaignId;
    newer = second.campaignId;
    await store.query(`UPDATE campaigns SET created_at = $2, name = 'spring' WHERE id = $1`, [
      older,
      new Date(now - 60_000),
    ]);
    await store.query(`UPDATE campaigns SET created_at = $2, name = 'summer' WHERE id = $1`, [
      newer,
      new Date(now - 1_000),
    ]);
    const ports = portsFor(store);
    const at = new Date(now);
    const [g1, g2, g3] = first.messageIds as [MessageId, MessageId, MessageId];
    const [y1, y2] = second.messageIds as [MessageId, MessageId];
    const gmail = { domain: 'gmail.com', pool: 'bulk-a', at };
    const yahoo = { domain: 'yahoo.com', pool: 'bulk-a', at };
    await onDeliveryDelivered(delivery('delivery.delivered', tenantId, g1, gmail), ports);
    await onDeliveryDelivered(delivery('delivery.delivered', tenantId, g2, gmail), ports);
    await onDeliveryBounced(delivery('delivery.bounced', tenantId, g3, gmail), ports);
    await onDeliveryDelivered(delivery('delivery.delivered', tenantId, y1, yahoo), ports);
    await onDeliveryDeferred(delivery('delivery.deferred', tenantId, y2, yahoo), ports);

    // One human and one machine open: the chart counts the person only.
    for (const machine of [false, true]) {
      await store.query(
        `INSERT INTO engagement_events (message_id, tenant_id, campaign_id, kind, machine, occurred_at)
         VALUES ($1, $2, $3, 'open', $4, $5)`,
        [g1, tenantId, older, machine, at],
      );
    }
    // The relay's pace for the pool this tenant used, and for one it did not.
    await store.query(
      `INSERT INTO relay_throttle_state (pool, site, rate_per_second, concurrency)
       VALUES ('bulk-a', 'google', 12.5, 4), ('bulk-a', 'yahoo', 3, 2), ('someone-else', 'google', 99, 9)`,
    );
    activePause = randomUUID();
    const pause = `INSERT INTO campaign_pauses
      (id, tenant_id, campaign_id, scope_provider, scope_pool, source, metric, reason, evidence, resumed_at)
      VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8, $9)`;
    await store.query(pause, [
      activePause,
      tenantId,
      newer,
      'yahoo',
      'breaker',
      'bounce_rate',
      'hard bounces 21 % of the last 5 minutes (at least 14 % at 95 % confidence) > 5 %',
      JSON.stringify({ windowMs: 300_000, attempts: 200, bounced: 42, rate: 0.21 }),
      null,
    ]);
    await store.query(pause, [
      randomUUID(),
      tenantId,
      newer,
      'google',
      'user',
      null,
      'resumed already',
      '{}',
      new Date(now),
    ]);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await drop();
  });

  const get = async (path: string, apiKey = key): Promise<any> => {
    const response = await fetch(`${origin}/v1${path}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(response.status).toBe(200);
    return response.json();
  };

  it('lists campaigns newest first with the figures of their stats and their progress', async () => {
    const body = await get('/dashboard');
    expect(body.campaigns.map((c: any) => c.name)).toEqual(['summer', 'spring']);
    for (const campaign of body.campaigns) {
      const stats = await get(`/campaigns/${campaign.campaignId}/stats`);
      expect(campaign).toMatchObject(stats);
    }
    const [summer, spring] = body.campaigns;
    expect(summer).toMatchObject({
      campaignId: newer,
      status: 'sending',
      recipients: 4,
      inFlight: 3,
      progress: 0.25,
    });
    expect(summer.states).toMatchObject({ delivered: 1, deferred: 1, queued: 2 });
    expect(spring).toMatchObject({ campaignId: older, inFlight: 0, progress: 1 });
    expect(spring.states).toMatchObject({ delivered: 2, bounced: 1 });
  });

  it('sums the KPIs as GET /v1/kpis does', async () => {
    const body = await get('/dashboard');
    const kpis = await get('/kpis?groupBy=');
    expect(body.kpis).toEqual({ metrics: kpis.rows[0].metrics, rates: kpis.rows[0].rates });
    expect(body.kpis.metrics).toMatchObject({ sent: 5, delivered: 3, bounced_hard: 1 });
  });

  it('counts final outcomes and human engagement per minute over the last hour', async () => {
    const body = await get('/dashboard');
    const points = body.series.points as any[];
    expect(points).toHaveLength(60);
    const minutes = points.map((p) => Date.parse(p.t));
    expect(minutes.every((t, i) => i === 0 || t - minutes[i - 1]! === 60_000)).toBe(true);
    expect(minutes.at(-1)).toBe(Math.floor(Date.parse(body.generatedAt) / 60_000) * 60_000);
    const sum = (field: string) => points.reduce((total, p) => total + p[field], 0);
    expect(sum('delivered')).toBe(3);
    expect(sum('bounced')).toBe(1);
    expect(sum('humanOpens')).toBe(1);
    expect(sum('humanClicks')).toBe(0);
  });

  it("shows provider health with the relay's pace, from the tenant's pools only", async () => {
    const body = await get('/dashboard');
    const byName = Object.fromEntries(body.health.providers.map((p: any) => [p.provider, p]));
    expect(byName['google']).toMatchObject({
      pools: ['bulk-a'],
      attempts: 3,
      delivered: 2,
      bounced: 1,
      rates: { delivered: 0.6667, bounced: 0.3333, deferred: 0 },
      learnedRatePerSecond: 12.5,
    });
    expect(byName['yahoo']).toMatchObject({
      attempts: 2,
      deferred: 1,
      rates: { delivered: 0.5, deferred: 0.5 },
      learnedRatePerSecond: 3,
    });
    expect(body.health.throttles.map((t: any) => `${t.pool}/${t.site}`)).toEqual([
      'bulk-a/google',
      'bulk-a/yahoo',
    ]);
    expect(Date.parse(body.health.since)).toBeLessThanOrEqual(Date.now() - 3_600_000);
  });

  it('shows the paused slices in force with their reason and evidence, for their tenant only', async () => {
    const body = await get('/dashboard');
    expect(body.pauses).toEqual([
      expect.objectContaining({
        pauseId: activePause,
        campaignId: newer,
        campaignName: 'summer',
        provider: 'yahoo',
        pool: '',
        source: 'breaker',
        metric: 'bounce_rate',
        reason: expect.stringContaining('hard bounces 21 %'),
        evidence: { windowMs: 300_000, attempts: 200, bounced: 42, rate: 0.21 },
      }),
    ]);
    const foreign = await get('/dashboard', otherKey);
    expect(foreign.campaigns).toEqual([]);
    expect(foreign.pauses).toEqual([]);
    expect(foreign.health.throttles).toEqual([]);
    expect(foreign.kpis.metrics.sent).toBe(0);
  });

  it('refuses a request without a key and is part of the OpenAPI document', async () => {
    const response = await fetch(`${origin}/v1/dashboard`);
    expect(response.status).toBe(401);
    const paths = (analyticsOpenApi() as { paths: Record<string, unknown> }).paths;
    expect(Object.keys(paths)).toContain('/v1/dashboard');
  });

  it('serves the page with a strict CSP, no cookie and no inline script or style', async () => {
    const page = await fetch(`${origin}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('set-cookie')).toBeNull();
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/dashboard/dashboard.js">');
    // Every script has a src, and no element carries a style attribute or a handler.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/);
    for (const file of ['dashboard.js', 'charts.js']) {
      const asset = await fetch(`${origin}/dashboard/${file}`);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      expect(await asset.text()).toBe(await readFile(join(DASHBOARD_ASSETS, file), 'utf8'));
      expect(asset.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    }
    expect((await fetch(`${origin}/dashboard/missing.js`)).status).toBe(404);
  });
});
