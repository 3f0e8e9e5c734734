import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@relais/store';
import {
  analyticsApi,
  onDeliveryBounced,
  onDeliveryDeferred,
  onDeliveryDelivered,
} from '../src/index';
import {
  deliveryEvent,
  drivers,
  logger,
  openMigrated,
  portsFor,
  seedCampaign,
  seedTenant,
} from './fixtures';

describe.each(drivers)('stats API on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    const app = express();
    app.use('/v1', analyticsApi({ store, logger }));
    // Stands for the campaign router mounted after it in `relais up`.
    app.use(
      '/v1',
      (_req, res) => void res.status(404).json({ error: { code: 'NOT_FOUND' }, next: true }),
    );
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await drop();
  });

  const get = async (path: string, key?: string) => {
    const response = await fetch(`${base}${path}`, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('reports states, counters and rates of a campaign', async () => {
    const { tenantId, key } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId, {
      states: ['queued', 'queued', 'queued', 'queued', 'suppressed', 'failed'],
    });
    const ports = portsFor(store);
    const [a, b, c] = messageIds;
    await onDeliveryDeferred(deliveryEvent('delivery.deferred', tenantId, a!, campaignId), ports);
    await onDeliveryDelivered(deliveryEvent('delivery.delivered', tenantId, a!, campaignId), ports);
    await onDeliveryDelivered(deliveryEvent('delivery.delivered', tenantId, b!, campaignId), ports);
    await onDeliveryBounced(deliveryEvent('delivery.bounced', tenantId, c!, campaignId), ports);

    const reply = await get(`/campaigns/${campaignId}/stats`, key);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      campaignId,
      status: 'sending',
      recipients: 6,
      states: {
        pending: 0,
        queued: 1,
        sent: 0,
        delivered: 2,
        deferred: 0,
        bounced: 1,
        failed: 1,
        expired: 0,
        suppressed: 1,
        cancelled: 0,
      },
      counters: { delivered: 2, bounced_hard: 1, bounced_soft: 0, deferred: 1, expired: 0 },
      rates: { delivered: 0.5, bounced: 0.25 },
      finishedAt: null,
    });
  });

  it("answers 404 with the API's error shape for another tenant's campaign and unknown ids", async () => {
    const owner = await seedTenant(store);
    const stranger = await seedTenant(store);
    const { campaignId } = await seedCampaign(store, owner.tenantId);

    const foreign = await get(`/campaigns/${campaignId}/stats`, stranger.key);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatchObject({ code: 'NOT_FOUND', parameter: 'campaignId' });
    expect(foreign.body.error.requestId).toEqual(expect.any(String));

    const unknown = await get(`/campaigns/00000000-0000-4000-8000-000000000000/stats`, owner.key);
    expect(unknown.status).toBe(404);
    const malformed = await get(`/campaigns/not-an-id/stats`, owner.key);
    expect(malformed.status).toBe(404);
    expect(malformed.body.error.code).toBe('NOT_FOUND');
  });

  it('refuses a request without a valid API key', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId } = await seedCampaign(store, tenantId);
    const reply = await get(`/campaigns/${campaignId}/stats`, 'rls_nope');
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe('UNAUTHORIZED');
  });

  it('lets paths it does not serve through to the router mounted after it', async () => {
    const reply = await get('/campaigns');
    expect(reply.body).toEqual({ error: { code: 'NOT_FOUND' }, next: true });
  });
});
