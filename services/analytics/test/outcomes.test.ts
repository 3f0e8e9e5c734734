import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@relais/store';
import {
  onDeliveryBounced,
  onDeliveryDeferred,
  onDeliveryDelivered,
  onDeliveryExpired,
} from '../src/index';
import type { AnalyticsPorts } from '../src/ports';
import {
  countersOf,
  deliveryEvent,
  drivers,
  messageRow,
  openMigrated,
  portsFor,
  seedCampaign,
  seedTenant,
} from './fixtures';

describe.each(drivers)('delivery outcomes on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let ports: AnalyticsPorts;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    ports = portsFor(store);
  });
  afterAll(() => drop());

  it('delivers a message that was deferred, counting both', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId);
    const messageId = messageIds[0]!;

    await onDeliveryDeferred(
      deliveryEvent('delivery.deferred', tenantId, messageId, campaignId),
      ports,
    );
    const deferred = await messageRow(store, messageId);
    expect(deferred).toMatchObject({ state: 'deferred', attempts: 1, final_at: null });
    expect(deferred.last_reason).toBe('451 4.7.1 greylisted');

    await onDeliveryDelivered(
      deliveryEvent('delivery.delivered', tenantId, messageId, campaignId, { attempt: 2 }),
      ports,
    );
    const delivered = await messageRow(store, messageId);
    expect(delivered).toMatchObject({
      state: 'delivered',
      attempts: 2,
      last_reason: '250 2.0.0 OK',
    });
    expect(delivered.final_at).toBeInstanceOf(Date);
    expect(await countersOf(store, campaignId)).toEqual({ deferred: 1, delivered: 1 });
  });

  it('ignores a deferral that arrives after the delivery, but counts the attempt', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId);
    const messageId = messageIds[0]!;

    await onDeliveryDelivered(
      deliveryEvent('delivery.delivered', tenantId, messageId, campaignId),
      ports,
    );
    const before = await messageRow(store, messageId);
    await onDeliveryDeferred(
      deliveryEvent('delivery.deferred', tenantId, messageId, campaignId),
      ports,
    );

    expect(await messageRow(store, messageId)).toEqual(before);
    expect(before.state).toBe('delivered');
    expect(await countersOf(store, campaignId)).toEqual({ delivered: 1, deferred: 1 });
  });

  it('counts a final outcome reported twice once, and never lets a bounce replace a delivery', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId);
    const messageId = messageIds[0]!;

    await onDeliveryDelivered(
      deliveryEvent('delivery.delivered', tenantId, messageId, campaignId),
      ports,
    );
    await onDeliveryDelivered(
      deliveryEvent('delivery.delivered', tenantId, messageId, campaignId),
      ports,
    );
    await onDeliveryBounced(
      deliveryEvent('delivery.bounced', tenantId, messageId, campaignId),
      ports,
    );
    await onDeliveryExpired(
      deliveryEvent('delivery.expired', tenantId, messageId, campaignId),
      ports,
    );

    expect(await messageRow(store, messageId)).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(await countersOf(store, campaignId)).toEqual({ delivered: 1 });
  });

  it('counts hard and soft bounces and expiries apart, summed over shards', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId, {
      states: Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'queued' : 'sent')),
    });
    const [hard, soft, expired] = [
      messageIds.slice(0, 5),
      messageIds.slice(5, 9),
      messageIds.slice(9),
    ];
    for (const id of hard) {
      await onDeliveryBounced(deliveryEvent('delivery.bounced', tenantId, id, campaignId), ports);
    }
    for (const id of soft) {
      await onDeliveryBounced(
        deliveryEvent('delivery.bounced', tenantId, id, campaignId, { hard: false }),
        ports,
      );
    }
    for (const id of expired) {
      await onDeliveryExpired(deliveryEvent('delivery.expired', tenantId, id, campaignId), ports);
    }

    expect(await countersOf(store, campaignId)).toEqual({
      bounced_hard: 5,
      bounced_soft: 4,
      expired: 3,
    });
    const shards = await store.query<{ n: string }>(
      `SELECT count(DISTINCT shard) AS n FROM campaign_counters WHERE campaign_id = $1`,
      [campaignId],
    );
    expect(Number(shards.rows[0]!.n)).toBeGreaterThan(1);
    expect(await messageRow(store, soft[0]!)).toMatchObject({
      state: 'bounced',
      last_reason: 'mailboxfull',
    });
  });

  it('leaves messages alone that were never dispatched, or belong to another tenant', async () => {
    const { tenantId } = await seedTenant(store);
    const other = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId, {
      states: ['pending', 'suppressed', 'queued'],
    });
    const [pending, suppressed, queued] = messageIds.map((id) => id);

    await onDeliveryDelivered(
      deliveryEvent('delivery.delivered', tenantId, pending!, campaignId),
      ports,
    );
    await onDeliveryDelivered(
      deliveryEvent('delivery.delivered', tenantId, suppressed!, campaignId),
      ports,
    );
    await onDeliveryDelivered(
      deliveryEvent('delivery.delivered', other.tenantId, queued!, campaignId),
      ports,
    );

    expect((await messageRow(store, pending!)).state).toBe('pending');
    expect((await messageRow(store, suppressed!)).state).toBe('suppressed');
    expect((await messageRow(store, queued!)).state).toBe('queued');
    expect(await countersOf(store, campaignId)).toEqual({});
  });
});
