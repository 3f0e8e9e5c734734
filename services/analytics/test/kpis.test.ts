import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@relais/store';
import { createSqlKpiStore } from '../src/adapters/sql-kpi-store';
import { onDeliveryBounced, onDeliveryDeferred, onDeliveryDelivered } from '../src/index';
import type { KpiStore } from '../src/kpi/ports';
import type { AnalyticsPorts } from '../src/ports';
import { drivers, openMigrated, portsFor, seedTenant } from './fixtures';
import { delivery, engagement, kpiRecorderFor, seedKpiCampaign } from './kpi-fixtures';

const hour = new Date('2026-11-27T09:00:00.000Z');
const at = (minutes: number) => new Date(hour.getTime() + minutes * 60_000);

describe.each(drivers)('KPI slices on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let ports: AnalyticsPorts;
  let kpiStore: KpiStore;
  let record: ReturnType<typeof kpiRecorderFor>['record'];

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    ports = portsFor(store);
    kpiStore = createSqlKpiStore(store);
    ({ record } = kpiRecorderFor(store));
  });
  afterAll(() => drop());

  it('counts delivery and engagement events once each, in their slice and hour', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedKpiCampaign(store, tenantId, [
      'gmail.com',
      'gmail.com',
      'hotmail.fr',
    ]);
    const [m1, m2, m3] = messageIds as [never, never, never];
    const gmail = { domain: 'gmail.com', pool: 'bulk-a' };

    await onDeliveryDeferred(
      delivery('delivery.deferred', tenantId, m1, { ...gmail, at: at(1) }),
      ports,
    );
    const delivered = delivery('delivery.delivered', tenantId, m1, { ...gmail, at: at(5) });
    await onDeliveryDelivered(delivered, ports);
    await onDeliveryDelivered(delivered, ports); // a redelivery of the same envelope
    // A second delivery event of a delivered message (new envelope): no second delivery.
    await onDeliveryDelivered(
      delivery('delivery.delivered', tenantId, m1, { ...gmail, at: at(6) }),
      ports,
    );
    await onDeliveryBounced(
      delivery('delivery.bounced', tenantId, m2, { ...gmail, at: at(7) }),
      ports,
    );
    await onDeliveryDelivered(
      delivery('delivery.delivered', tenantId, m3, {
        domain: 'hotmail.fr',
        pool: 'bulk-b',
        at: at(70),
      }),
      ports,
    );

    const opened = engagement(
      'engagement.opened',
      tenantId,
      { messageId: m1, machine: true },
      at(8),
    );
    await record(opened, ports);
    await record(opened, ports); // redelivered: counts nothing again
    await record(
      engagement('engagement.opened', tenantId, { messageId: m1, machine: false }, at(20)),
      ports,
    );
    await record(
      engagement('engagement.opened', tenantId, { messageId: m1, machine: false }, at(21)),
      ports,
    );
    await record(
      engagement(
        'engagement.clicked',
        tenantId,
        { messageId: m1, machine: false, url: 'https://shop.test/' },
        at(22),
      ),
      ports,
    );
    await record(
      engagement('engagement.opened', tenantId, { messageId: m3, machine: true }, at(71)),
      ports,
    );
    await record(
      engagement(
        'engagement.clicked',
        tenantId,
        { messageId: m3, machine: true, url: 'https://shop.test/' },
        at(71),
      ),
      ports,
    );
    const contactId = randomUUID();
    await record(
      engagement('engagement.unsubscribed', tenantId, { messageId: m1, contactId }, at(30)),
      ports,
    );
    await record(
      engagement(
        'complaint.received',
        tenantId,
        { messageId: m3, campaignId, contactId, feedbackType: 'abuse' },
        at(75),
      ),
      ports,
    );
    for (const amount of [12.5, 7.25]) {
      await record(
        engagement(
          'engagement.converted',
          tenantId,
          {
            conversionId: randomUUID(),
            messageId: m1,
            attribution: 'click',
            amount,
            currency: 'EUR',
            occurredAt: at(40).toISOString(),
          },
          at(90), // published later than it happened: counted in the hour it happened
        ),
        ports,
      );
    }

    const [total] = await kpiStore.report({ tenantId, groupBy: [] });
    expect(total!.totals).toEqual({
      sent: 3,
      delivered: 2,
      deferred: 1,
      bounced_hard: 1,
      bounced_soft: 0,
      expired: 0,
      complaints: 1,
      opens: 4,
      opens_unique: 2,
      opens_human_unique: 1,
      clicks: 2,
      clicks_unique: 2,
      clicks_human_unique: 1,
      unsubscribes: 1,
      conversions: 2,
      revenue: 19.75,
    });

    const rows = await kpiStore.report({
      tenantId,
      campaignId,
      groupBy: ['provider', 'pool', 'variant', 'hour'],
    });
    expect(
      rows.map((row) => ({
        ...row.dimensions,
        hour: row.dimensions.hour?.toISOString(),
        sent: row.totals.sent,
        delivered: row.totals.delivered,
        opens_human_unique: row.totals.opens_human_unique,
        complaints: row.totals.complaints,
        revenue: row.totals.revenue,
      })),
    ).toEqual([
      {
        provider: 'google',
        pool: 'bulk-a',
        variant: 'A',
        hour: hour.toISOString(),
        sent: 1,
        delivered: 1,
        opens_human_unique: 1,
        complaints: 0,
        revenue: 19.75,
      },
      {
        provider: 'google',
        pool: 'bulk-a',
        variant: 'B',
        hour: hour.toISOString(),
        sent: 1,
        delivered: 0,
        opens_human_unique: 0,
        complaints: 0,
        revenue: 0,
      },
      {
        provider: 'microsoft',
        pool: 'bulk-b',
        variant: 'A',
        hour: at(60).toISOString(),
        sent: 1,
        delivered: 1,
        opens_human_unique: 0,
        complaints: 1,
        revenue: 0,
      },
    ]);

    const days = await kpiStore.report({ tenantId, groupBy: ['campaign', 'day'] });
    expect(days).toHaveLength(1);
    expect(days[0]!.dimensions).toEqual({ campaignId, day: new Date('2026-11-27T00:00:00.000Z') });

    const later = await kpiStore.report({ tenantId, groupBy: ['hour'], from: at(60), to: at(120) });
    expect(later.map((row) => row.totals.sent)).toEqual([1]);
  });

  it('takes back a human click the tracking store re-marked as a scanner’s', async () => {
    const { tenantId } = await seedTenant(store);
    const { messageIds } = await seedKpiCampaign(store, tenantId, ['gmail.com', 'gmail.com']);
    const [scanned, read] = messageIds as [never, never];
    const url = 'https://shop.test/';
    const click = (messageId: string, machine: boolean, minutes: number) =>
      engagement('engagement.clicked', tenantId, { messageId, machine, url }, at(minutes));
    // What the tracking store leaves: each first click looked human when it was recorded.
    for (const messageId of [scanned, read]) {
      await store.query(
        `INSERT INTO engagement_events (message_id, tenant_id, kind, machine, occurred_at)
         VALUES ($1, $2, 'click', false, $3)`,
        [messageId, tenantId, at(10)],
      );
      await store.query(`UPDATE messages SET human_clicked_at = $2 WHERE id = $1`, [
        messageId,
        at(10),
      ]);
      await record(click(messageId, false, 10), ports);
    }
    // The scanner's burst walked every link: re-marked, no human click left on `scanned`.
    await store.query(`UPDATE messages SET human_clicked_at = NULL WHERE id = $1`, [scanned]);
    await record(click(scanned, true, 70), ports);
    // A person's click followed by a scanner's: the human click stands.
    await record(click(read, true, 71), ports);

    const rows = await kpiStore.report({ tenantId, groupBy: ['hour'] });
    expect(
      rows.map((r) => [
        r.dimensions.hour?.toISOString(),
        r.totals.clicks_human_unique,
        r.totals.clicks,
      ]),
    ).toEqual([
      [hour.toISOString(), 1, 2],
      [at(60).toISOString(), 0, 2],
    ]);
  });

  it('keeps another tenant’s events and ids out of a tenant’s slices', async () => {
    const { tenantId } = await seedTenant(store);
    const other = await seedTenant(store);
    const { messageIds } = await seedKpiCampaign(store, tenantId, ['gmail.com']);
    // Another tenant naming this tenant's message: no row, no count.
    await onDeliveryDelivered(
      delivery('delivery.delivered', other.tenantId, messageIds[0]!, {
        domain: 'gmail.com',
        pool: 'p',
        at: at(1),
      }),
      ports,
    );
    await record(
      engagement(
        'engagement.opened',
        other.tenantId,
        { messageId: messageIds[0]!, machine: false },
        at(2),
      ),
      ports,
    );
    expect(await kpiStore.report({ tenantId: other.tenantId, groupBy: ['campaign'] })).toEqual([]);
    const [mine] = await kpiStore.report({ tenantId, groupBy: [] });
    expect(mine!.totals.sent).toBe(0);
    expect(mine!.totals.opens).toBe(0);
  });
});
