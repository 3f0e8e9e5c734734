import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '@relais/domain';
import type { Store } from '@relais/store';
import { createSqlAnalyticsStore } from '../src/adapters/sql-analytics-store';
import { counterShard, outcomeOf } from '../src/domain/outcomes';
import { onDeliveryDeferred, onDeliveryDelivered } from '../src/index';
import { createOutcomeBatcher } from '../src/outcome-batcher';
import type { AnalyticsPorts, RecordResult } from '../src/ports';
import {
  countersOf,
  deliveryEvent,
  drivers,
  logger,
  messageRow,
  openMigrated,
  seedCampaign,
  seedTenant,
} from './fixtures';

const CONSUMER = 'analytics-batching-test';

describe.each(drivers)('micro-batched delivery events on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let ports: AnalyticsPorts;
  /** The size of every batch the store was asked to record, in order. */
  const batches: number[] = [];

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    const sql = createSqlAnalyticsStore(store);
    const spied = {
      ...sql,
      recordOutcomes: (consumer: string, events: Parameters<typeof sql.recordOutcomes>[1]) => {
        batches.push(events.length);
        return sql.recordOutcomes(consumer, events);
      },
    };
    const outcomes = createOutcomeBatcher({ store: spied, consumer: CONSUMER, batchSize: 256 });
    ports = { store: spied, outcomes, counterShards: 16, logger };
  });
  afterAll(() => drop());

  async function inboxHas(envelopes: Envelope[]): Promise<number> {
    const { rows } = await store.query<{ n: string }>(
      `SELECT count(*) AS n FROM inbox WHERE consumer = $1 AND envelope_id = ANY($2::uuid[])`,
      [CONSUMER, envelopes.map((e) => e.id)],
    );
    return Number(rows[0]!.n);
  }

  it('counts an envelope delivered twice in one batch once, and its later redelivery not at all', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId, {
      states: ['queued', 'queued'],
    });
    const first = deliveryEvent('delivery.delivered', tenantId, messageIds[0]!, campaignId);
    const second = deliveryEvent('delivery.deferred', tenantId, messageIds[1]!, campaignId);
    const before = batches.length;

    await Promise.all([
      onDeliveryDelivered(first, ports),
      onDeliveryDeferred(second, ports),
      onDeliveryDelivered(first, ports),
      onDeliveryDeferred(second, ports),
    ]);
    expect(batches.slice(before)).toEqual([4]);
    expect(await countersOf(store, campaignId)).toEqual({ delivered: 1, deferred: 1 });
    expect(await messageRow(store, messageIds[0]!)).toMatchObject({
      state: 'delivered',
      attempts: 1,
    });
    expect(await messageRow(store, messageIds[1]!)).toMatchObject({
      state: 'deferred',
      attempts: 1,
    });

    // A redelivery after the commit: claimed already, so nothing moves or counts.
    await Promise.all([onDeliveryDelivered(first, ports), onDeliveryDeferred(second, ports)]);
    expect(await countersOf(store, campaignId)).toEqual({ delivered: 1, deferred: 1 });
    expect(await messageRow(store, messageIds[1]!)).toMatchObject({ attempts: 1 });
    expect(await inboxHas([first, second])).toBe(2);
  });

  it('applies a deferral then a delivery of one message in one batch in arrival order', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId);
    const messageId = messageIds[0]!;
    const before = batches.length;

    await Promise.all([
      onDeliveryDeferred(
        deliveryEvent('delivery.deferred', tenantId, messageId, campaignId),
        ports,
      ),
      onDeliveryDelivered(
        deliveryEvent('delivery.delivered', tenantId, messageId, campaignId, { attempt: 2 }),
        ports,
      ),
    ]);

    expect(batches.slice(before)).toEqual([2]);
    const row = await messageRow(store, messageId);
    expect(row).toMatchObject({ state: 'delivered', attempts: 2, last_reason: '250 2.0.0 OK' });
    expect(row.final_at).toBeInstanceOf(Date);
    expect(await countersOf(store, campaignId)).toEqual({ deferred: 1, delivered: 1 });
  });

  it('keeps a final state when a deferral of the same message comes after it in one batch', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId);
    const messageId = messageIds[0]!;
    const before = batches.length;

    await Promise.all([
      onDeliveryDelivered(
        deliveryEvent('delivery.delivered', tenantId, messageId, campaignId),
        ports,
      ),
      onDeliveryDeferred(
        deliveryEvent('delivery.deferred', tenantId, messageId, campaignId),
        ports,
      ),
    ]);

    expect(batches.slice(before)).toEqual([2]);
    expect(await messageRow(store, messageId)).toMatchObject({
      state: 'delivered',
      attempts: 1,
      last_reason: '250 2.0.0 OK',
    });
    // Every deferral of a known message is an attempt, even one that moved nothing.
    expect(await countersOf(store, campaignId)).toEqual({ delivered: 1, deferred: 1 });
  });

  it('rejects every handler of a batch whose transaction fails, commits nothing, and claims them again on retry', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId, {
      states: ['queued', 'queued', 'queued'],
    });
    const envelopes = [
      deliveryEvent('delivery.delivered', tenantId, messageIds[0]!, campaignId),
      deliveryEvent('delivery.deferred', tenantId, messageIds[1]!, campaignId),
    ];
    // Shard 99 breaks the counters' CHECK (shard < 64): the last statement of the batch
    // fails, after the claim and the moves ran.
    const poison = deliveryEvent('delivery.delivered', tenantId, messageIds[2]!, campaignId);
    const record = (shard: number): Promise<RecordResult> => {
      const outcome = outcomeOf({ type: poison.type, data: poison.data });
      return ports.outcomes.record({
        envelopeId: poison.id,
        tenantId,
        outcome,
        shard,
      });
    };
    const before = batches.length;

    const settled = await Promise.allSettled([
      onDeliveryDelivered(envelopes[0] as Envelope<'delivery.delivered'>, ports),
      onDeliveryDeferred(envelopes[1] as Envelope<'delivery.deferred'>, ports),
      record(99),
    ]);

    expect(batches.slice(before)).toEqual([3]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const reasons = settled.map((s) => (s.status === 'rejected' ? s.reason : undefined));
    expect(new Set(reasons).size).toBe(1);
    for (const id of messageIds) {
      expect(await messageRow(store, id)).toMatchObject({ state: 'queued', attempts: 0 });
    }
    expect(await countersOf(store, campaignId)).toEqual({});
    expect(await inboxHas([...envelopes, poison])).toBe(0);

    // The bus retries them: nothing was claimed, so they all take effect now.
    await Promise.all([
      onDeliveryDelivered(envelopes[0] as Envelope<'delivery.delivered'>, ports),
      onDeliveryDeferred(envelopes[1] as Envelope<'delivery.deferred'>, ports),
      record(counterShard(messageIds[2]!, 16)),
    ]);
    expect(await countersOf(store, campaignId)).toEqual({ delivered: 2, deferred: 1 });
    expect(await inboxHas([...envelopes, poison])).toBe(3);
  });
});
