import { describe, expect, it } from 'vitest';
import { providerOf, type MessageId } from '@relais/domain';
import { emptyTotals, kpiRates, kpiRuleOf } from './metrics';

const messageId = '7b0c3f4e-8e0a-4c1e-9a53-1f2d3c4b5a69' as MessageId;
const delivery = { messageId, recipientDomain: 'gmail.com', pool: 'bulk-a', attempt: 1 };

describe('KPI rules', () => {
  it.each([
    ['delivery.delivered', delivery, { always: [], once: [], onTransition: ['delivered'] }],
    ['delivery.deferred', { ...delivery, reason: 'x' }, { always: ['deferred'], once: [] }],
    [
      'delivery.bounced',
      { ...delivery, reason: 'x', hard: true, confidence: 1 },
      { onTransition: ['bounced_hard'] },
    ],
    [
      'delivery.bounced',
      { ...delivery, reason: 'x', hard: false, confidence: 1 },
      { onTransition: ['bounced_soft'] },
    ],
    ['delivery.expired', delivery, { onTransition: ['expired'] }],
    [
      'engagement.opened',
      { messageId, machine: true },
      { always: ['opens'], once: ['opens_unique'] },
    ],
    [
      'engagement.opened',
      { messageId, machine: false },
      { always: ['opens'], once: ['opens_unique', 'opens_human_unique'] },
    ],
    [
      'engagement.clicked',
      { messageId, machine: false, url: 'https://shop.test/' },
      { always: ['clicks'], once: ['clicks_unique', 'clicks_human_unique'] },
    ],
    ['engagement.unsubscribed', { messageId }, { always: [], once: ['unsubscribes'] }],
    ['complaint.received', { messageId }, { once: ['complaints'] }],
  ] as const)('%s counts what its row says', (type, data, expected) => {
    expect(kpiRuleOf(type, data)).toMatchObject({ messageId, ...expected });
  });

  it('lets a machine click take back a human click the tracking store re-marked', () => {
    const click = { messageId, url: 'https://shop.test/' };
    expect(kpiRuleOf('engagement.clicked', { ...click, machine: true })?.retractsHumanClick).toBe(
      true,
    );
    expect(
      kpiRuleOf('engagement.clicked', { ...click, machine: false })?.retractsHumanClick,
    ).toBeUndefined();
  });

  it('routes delivery events to their provider and pool, engagement events to none', () => {
    expect(kpiRuleOf('delivery.delivered', delivery)?.route).toEqual({
      recipientDomain: 'gmail.com',
      pool: 'bulk-a',
    });
    expect(kpiRuleOf('engagement.opened', { messageId, machine: false })?.route).toBeUndefined();
  });

  it('counts a conversion with its amount and time, and none without a message', () => {
    const data = { conversionId: messageId, attribution: 'click', amount: 12.5, currency: 'EUR' };
    const occurredAt = '2026-11-27T10:15:00.000Z';
    expect(kpiRuleOf('engagement.converted', { ...data, messageId, occurredAt })).toMatchObject({
      always: ['conversions'],
      revenue: 12.5,
      occurredAt,
    });
    expect(kpiRuleOf('engagement.converted', { ...data, occurredAt })).toBeNull();
  });

  it('reads suppressions without counting them and ignores types it does not know', () => {
    expect(kpiRuleOf('suppression.added', { email: 'a@b.test', reason: 'x' })).toBeNull();
    expect(kpiRuleOf('campaign.launched', {})).toBeUndefined();
  });
});

describe('KPI rates', () => {
  it('divides by the documented denominators and gives 0 over nothing', () => {
    const totals = {
      ...emptyTotals(),
      sent: 200,
      delivered: 180,
      bounced_hard: 12,
      bounced_soft: 8,
      complaints: 9,
      opens_unique: 90,
      opens_human_unique: 45,
      clicks_human_unique: 18,
      unsubscribes: 3.6,
      conversions: 9,
      revenue: 450,
    };
    expect(kpiRates(totals)).toMatchObject({
      deliveryRate: 0.9,
      bounceRate: 0.1,
      hardBounceRate: 0.06,
      complaintRate: 0.05,
      openRate: 0.5,
      humanOpenRate: 0.25,
      clickRate: 0.1,
      clickToOpenRate: 0.4,
      unsubscribeRate: 0.02,
      conversionRate: 0.05,
      revenuePerDelivered: 2.5,
    });
    expect(Object.values(kpiRates(emptyTotals())).every((rate) => rate === 0)).toBe(true);
  });
});

describe('providerOf', () => {
  it.each([
    ['gmail.com', 'google'],
    ['GoogleMail.com.', 'google'],
    ['hotmail.fr', 'microsoft'],
    ['live.com', 'microsoft'],
    ['aol.com', 'yahoo'],
    ['me.com', 'apple'],
    ['wanadoo.fr', 'orange'],
    ['sfr.fr', 'sfr'],
    ['free.fr', 'free'],
    ['laposte.net', 'laposte'],
    ['web.de', 'gmx'],
    ['example.test', 'other'],
  ])('%s is %s', (domain, provider) => {
    expect(providerOf(domain)).toBe(provider);
  });
});
