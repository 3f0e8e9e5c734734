import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignId, TenantId } from '@relais/domain';
import type { Store } from '@relais/store';
import {
  analyticsApi,
  analyticsOpenApi,
  onDeliveryBounced,
  onDeliveryDelivered,
} from '../src/index';
import { drivers, logger, openMigrated, portsFor, seedTenant } from './fixtures';
import { delivery, engagement, kpiRecorderFor, seedKpiCampaign } from './kpi-fixtures';

const hour = new Date('2026-11-27T09:00:00.000Z');
const at = (minutes: number) => new Date(hour.getTime() + minutes * 60_000);

describe.each(drivers)('KPI API on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let server: Server;
  let base: string;
  let tenantId: TenantId;
  let key: string;
  let campaignId: CampaignId;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    const app = express();
    app.use('/v1', analyticsApi({ store, logger }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

    // gmail: 2 delivered (A, A), 1 hard bounce (B) at 09:xx; hotmail: 1 delivered at 11:xx.
    ({ tenantId, key } = await seedTenant(store));
    let messageIds;
    ({ campaignId, messageIds } = await seedKpiCampaign(store, tenantId, [
      'gmail.com',
      'gmail.com',
      'gmail.com',
      'hotmail.fr',
    ]));
    const [m1, m2, m3, m4] = messageIds as [never, never, never, never];
    const ports = portsFor(store);
    const { record } = kpiRecorderFor(store);
    const gmail = { domain: 'gmail.com', pool: 'bulk-a' };
    // A variant name a spreadsheet must read back as one field.
    await store.query(`UPDATE messages SET variant = $2 WHERE campaign_id = $1 AND domain = $3`, [
      campaignId,
      'spring, "sale"',
      'gmail.com',
    ]);
    await onDeliveryDelivered(
      delivery('delivery.delivered', tenantId, m1, { ...gmail, at: at(1) }),
      ports,
    );
    await onDeliveryBounced(
      delivery('delivery.bounced', tenantId, m2, { ...gmail, at: at(2) }),
      ports,
    );
    await onDeliveryDelivered(
      delivery('delivery.delivered', tenantId, m3, { ...gmail, at: at(3) }),
      ports,
    );
    await onDeliveryDelivered(
      delivery('delivery.delivered', tenantId, m4, {
        domain: 'hotmail.fr',
        pool: 'b',
        at: at(125),
      }),
      ports,
    );
    await record(
      engagement('engagement.opened', tenantId, { messageId: m1, machine: false }, at(10)),
      ports,
    );
    await record(
      engagement('engagement.opened', tenantId, { messageId: m3, machine: true }, at(10)),
      ports,
    );
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await drop();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });

  it('sums KPIs by provider and pool with rates, as JSON', async () => {
    const response = await get(`/kpis?campaignId=${campaignId}&groupBy=provider,pool`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.groupBy).toEqual(['provider', 'pool']);
    expect(body.rows).toHaveLength(2);
    expect(body.rows[0]).toMatchObject({
      provider: 'google',
      pool: 'bulk-a',
      metrics: { sent: 3, delivered: 2, bounced_hard: 1, opens_unique: 2, opens_human_unique: 1 },
      rates: { deliveryRate: 2 / 3, bounceRate: 1 / 3, humanOpenRate: 0.5, openRate: 1 },
    });
    expect(body.rows[1]).toMatchObject({ provider: 'microsoft', pool: 'b', metrics: { sent: 1 } });
  });

  it('answers the same report as RFC 4180 CSV for Accept: text/csv and for format=csv', async () => {
    const byAccept = await get(`/kpis?groupBy=provider,variant,hour`, { accept: 'text/csv' });
    expect(byAccept.status).toBe(200);
    expect(byAccept.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    const csv = await byAccept.text();
    const lines = csv.split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toMatch(
      /^provider,variant,hour,sent,delivered,deferred,bounced_hard,.*,revenue,deliveryRate,/,
    );
    expect(lines[1]).toMatch(/^google,"spring, ""sale""",2026-11-27T09:00:00.000Z,3,2,0,1,/);
    expect(lines[2]).toMatch(/^microsoft,B,2026-11-27T11:00:00.000Z,1,1,0,0,/);
    expect(lines[1]).toContain(',0.6666666667,'); // 2/3 delivered, plain decimals
    expect(lines).toHaveLength(4);

    const byFormat = await get(`/kpis?groupBy=provider,variant,hour&format=csv`);
    expect(await byFormat.text()).toBe(csv);
  });

  it('draws a time series per provider, empty hours as 0', async () => {
    const response = await get(
      `/kpis/timeseries?metric=delivered&interval=hour&by=provider&from=2026-11-27T09:00:00Z&to=2026-11-27T12:00:00Z`,
    );
    const body = (await response.json()) as any;
    expect(body).toEqual({
      metric: 'delivered',
      interval: 'hour',
      series: [
        {
          provider: 'google',
          points: [
            { t: '2026-11-27T09:00:00.000Z', value: 2 },
            { t: '2026-11-27T10:00:00.000Z', value: 0 },
            { t: '2026-11-27T11:00:00.000Z', value: 0 },
          ],
        },
        {
          provider: 'microsoft',
          points: [
            { t: '2026-11-27T09:00:00.000Z', value: 0 },
            { t: '2026-11-27T10:00:00.000Z', value: 0 },
            { t: '2026-11-27T11:00:00.000Z', value: 1 },
          ],
        },
      ],
    });

    const daily = await get(`/kpis/timeseries?metric=deliveryRate&interval=day&format=csv`);
    expect(await daily.text()).toBe('t,deliveryRate\r\n2026-11-27T00:00:00.000Z,0.75\r\n');
  });

  it('refuses unknown dimensions and metrics and an empty range, and scopes to the tenant', async () => {
    expect((await get('/kpis?groupBy=provider,recipient')).status).toBe(400);
    expect((await get('/kpis/timeseries?metric=nonsense')).status).toBe(400);
    expect((await get('/kpis?from=2026-11-28T00:00:00Z&to=2026-11-27T00:00:00Z')).status).toBe(400);
    expect((await fetch(`${base}/kpis`)).status).toBe(401);
    const other = await seedTenant(store);
    const response = await fetch(`${base}/kpis?campaignId=${campaignId}`, {
      headers: { authorization: `Bearer ${other.key}` },
    });
    expect(((await response.json()) as any).rows).toEqual([]);
  });
});

describe('KPI API document', () => {
  it('publishes both KPI operations with their CSV representation', () => {
    const paths = analyticsOpenApi()['paths'] as Record<string, any>;
    for (const path of ['/v1/kpis', '/v1/kpis/timeseries']) {
      const content = paths[path].get.responses['200'].content;
      expect(Object.keys(content)).toEqual(['application/json', 'text/csv']);
    }
    const names = paths['/v1/kpis'].get.parameters.map((p: { name: string }) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(['campaignId', 'groupBy', 'from', 'to', 'format']),
    );
  });
});
