import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignId, MessageId, TenantId } from '@relais/domain';
import type { Store } from '@relais/store';
import { createSqlBreakerStore } from '../src/adapters/sql-breaker-store';
import type { BreakerSettings } from '../src/domain/breakers';
import { tripBreakers, type BreakerSweepPorts } from '../src/handlers/trip-breakers';
import { onDeliveryBounced, onDeliveryDelivered } from '../src/index';
import type { AnalyticsPorts } from '../src/ports';
import { drivers, logger, openMigrated, portsFor, seedTenant } from './fixtures';
import { delivery, engagement, kpiRecorderFor, seedKpiCampaign } from './kpi-fixtures';

// The breakers' window as the store keeps it: written with the outcomes (each event once),
// read by whichever replica holds the sweep lock, pruned, and turned into campaign.pause
// commands in the outbox.

const settings: BreakerSettings = {
  windowMs: 60_000,
  fastWindowMs: 0,
  confidence: 0.95,
  bounceRate: { threshold: 0.05, minSample: 20 },
  complaintRate: { threshold: 0.003, minSample: 20 },
  pools: true,
};

describe.each(drivers)('circuit breakers on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let ports: AnalyticsPorts;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    ports = portsFor(store);
  });
  afterAll(() => drop());

  const sweepPorts = (now: Date): BreakerSweepPorts => ({
    breakers: createSqlBreakerStore(store),
    settings,
    now: () => now,
    logger,
    requested: new Map(),
    requestHoldMs: 30_000,
  });

  /** Sends `count` messages of a new campaign to `domain`; the first `hard` bounce. */
  async function send(
    tenantId: TenantId,
    domain: string,
    count: number,
    hard: number,
    at: Date,
    campaign?: { campaignId: CampaignId; messageIds: MessageId[] },
  ) {
    const seeded = campaign ?? (await seedKpiCampaign(store, tenantId, Array(count).fill(domain)));
    const outcomes = seeded.messageIds.slice(0, count).map((messageId, i) => {
      const event =
        i < hard
          ? delivery('delivery.bounced', tenantId, messageId, { domain, pool: 'bulk', at })
          : delivery('delivery.delivered', tenantId, messageId, { domain, pool: 'bulk', at });
      return event.type === 'delivery.bounced'
        ? onDeliveryBounced(event, ports)
        : onDeliveryDelivered(event, ports);
    });
    await Promise.all(outcomes);
    return seeded;
  }

  // The store is shared by the cases of a driver: each looks only at its own campaigns.
  const tripsOf = async (now: Date, campaignIds: readonly string[]) =>
    (await tripBreakers(sweepPorts(now))).filter((trip) => campaignIds.includes(trip.campaignId));

  const pauseCommands = async (campaignId: CampaignId) => {
    const { rows } = await store.query<{ envelope: { data: Record<string, unknown> } }>(
      `SELECT envelope FROM outbox WHERE type = 'campaign.pause'
       AND envelope -> 'data' ->> 'campaignId' = $1`,
      [campaignId],
    );
    return rows.map((row) =>
      typeof row.envelope === 'string'
        ? (JSON.parse(row.envelope) as { data: Record<string, unknown> }).data
        : row.envelope.data,
    );
  };

  it('trips a bouncing provider from the stored window and sends campaign.pause once per sweep', async () => {
    const { tenantId } = await seedTenant(store);
    const now = new Date();
    const bad = await send(tenantId, 'yahoo.com', 60, 12, new Date(now.getTime() - 10_000));
    // A second campaign at a healthy baseline: 1 of 60 (1.7 %) never trips.
    const good = await send(tenantId, 'gmail.com', 60, 1, new Date(now.getTime() - 10_000));

    const window = await createSqlBreakerStore(store).withSweepLock((view) =>
      view.window(new Date(now.getTime() - 60_000)),
    );
    const yahoo = window!.filter((row) => row.campaignId === bad.campaignId);
    expect(yahoo.reduce((n, row) => n + row.bouncedHard, 0)).toBe(12);
    expect(yahoo.reduce((n, row) => n + row.delivered, 0)).toBe(48);
    expect(new Set(yahoo.map((row) => `${row.provider} ${row.pool}`))).toEqual(
      new Set(['yahoo bulk']),
    );

    const trips = await tripsOf(now, [bad.campaignId, good.campaignId]);
    expect(trips.map((t) => [t.campaignId, t.scope])).toEqual([
      [bad.campaignId, { provider: 'yahoo' }],
    ]);
    const commands = await pauseCommands(bad.campaignId);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({
      scope: { provider: 'yahoo' },
      metric: 'bounce_rate',
      evidence: { sample: 60, events: 12, threshold: 0.05 },
    });
    expect(await pauseCommands(good.campaignId)).toEqual([]);
  });

  it('counts a redelivered event once', async () => {
    const { tenantId } = await seedTenant(store);
    const at = new Date();
    const { campaignId, messageIds } = await seedKpiCampaign(store, tenantId, ['gmail.com']);
    const bounced = delivery('delivery.bounced', tenantId, messageIds[0]!, {
      domain: 'gmail.com',
      pool: 'bulk',
      at,
    });
    await onDeliveryBounced(bounced, ports);
    await onDeliveryBounced(bounced, ports);
    const { rows } = await store.query<{ n: string }>(
      `SELECT sum(bounced_hard) AS n FROM breaker_window WHERE campaign_id = $1`,
      [campaignId],
    );
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('counts complaints in the window when they arrive', async () => {
    const { tenantId } = await seedTenant(store);
    const at = new Date();
    const { record } = kpiRecorderFor(store);
    const seeded = await send(tenantId, 'orange.fr', 30, 0, at);
    const complaint = engagement(
      'complaint.received',
      tenantId,
      { messageId: seeded.messageIds[0]!, feedbackType: 'abuse' },
      at,
    );
    await record(complaint, ports);
    await record(complaint, ports);
    const { rows } = await store.query<{ complaints: string; delivered: string }>(
      `SELECT sum(complaints) AS complaints, sum(delivered) AS delivered FROM breaker_window
       WHERE campaign_id = $1`,
      [seeded.campaignId],
    );
    expect(rows[0]).toMatchObject({ complaints: '1', delivered: '30' });
  });

  it('does not trip a slice again on the evidence that paused it once resumed, nor while paused', async () => {
    const { tenantId } = await seedTenant(store);
    const now = new Date();
    const bad = await send(tenantId, 'yahoo.com', 60, 12, new Date(now.getTime() - 20_000));
    const pause = (resumedAt: Date | null) =>
      store.query(
        `INSERT INTO campaign_pauses (id, tenant_id, campaign_id, scope_provider, source, metric,
           reason, resumed_at)
         VALUES ($1, $2, $3, 'yahoo', 'breaker', 'bounce_rate', 'test', $4)`,
        [randomUUID(), tenantId, bad.campaignId, resumedAt?.toISOString() ?? null],
      );
    await pause(null);
    expect(await tripsOf(now, [bad.campaignId])).toEqual([]);
    await store.query(
      `UPDATE campaign_pauses SET resumed_at = $2 WHERE campaign_id = $1 AND resumed_at IS NULL`,
      [bad.campaignId, new Date(now.getTime() - 10_000).toISOString()],
    );
    expect(await tripsOf(now, [bad.campaignId])).toEqual([]);
    expect(await pauseCommands(bad.campaignId)).toEqual([]);
  });

  it('leaves campaigns that are not sending alone and prunes buckets past the window', async () => {
    const { tenantId } = await seedTenant(store);
    const now = new Date();
    const old = new Date(now.getTime() - settings.windowMs - 120_000);
    const stale = await send(tenantId, 'yahoo.com', 60, 30, old);
    const paused = await send(tenantId, 'yahoo.com', 60, 30, now);
    await store.query(`UPDATE campaigns SET status = 'paused' WHERE id = $1`, [paused.campaignId]);

    expect(await tripsOf(now, [stale.campaignId, paused.campaignId])).toEqual([]);
    const { rows } = await store.query<{ campaign_id: string }>(
      `SELECT DISTINCT campaign_id FROM breaker_window WHERE campaign_id = ANY ($1::uuid[])`,
      [[stale.campaignId, paused.campaignId]],
    );
    expect(rows.map((row) => row.campaign_id)).toEqual([paused.campaignId]);
  });

  if (driver.name === 'postgres') {
    it('lets one replica sweep at a time: a second sweep while the lock is held does nothing', async () => {
      const first = createSqlBreakerStore(store);
      const second = createSqlBreakerStore(store);
      const inner = await first.withSweepLock(async () =>
        second.withSweepLock(() => Promise.resolve('swept')),
      );
      expect(inner).toBeUndefined();
      expect(await second.withSweepLock(() => Promise.resolve('swept'))).toBe('swept');
    });
  }
});
