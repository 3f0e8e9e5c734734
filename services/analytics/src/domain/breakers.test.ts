import { describe, expect, it } from 'vitest';
import type { CampaignId, TenantId } from '@relais/domain';
import {
  evaluateBreakers,
  normalQuantile,
  wilsonLowerBound,
  type BreakerSettings,
  type SlicePause,
  type WindowCounts,
} from './breakers';

const tenantId = '00000000-0000-4000-8000-000000000001' as TenantId;
const campaignId = '00000000-0000-4000-8000-0000000000c1' as CampaignId;
const now = new Date('2026-11-27T12:00:00.000Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

const settings: BreakerSettings = {
  windowMs: 600_000,
  fastWindowMs: 0,
  confidence: 0.95,
  bounceRate: { threshold: 0.05, minSample: 100 },
  complaintRate: { threshold: 0.003, minSample: 100 },
  pools: true,
};

/** One bucket of a slice: `sent` attempts of which `hard` bounced (the rest delivered). */
function bucket(
  provider: string,
  sent: number,
  hard: number,
  options: { pool?: string; at?: Date; complaints?: number } = {},
): WindowCounts {
  return {
    tenantId,
    campaignId,
    provider,
    pool: options.pool ?? 'bulk',
    bucket: options.at ?? ago(60),
    delivered: sent - hard,
    bouncedHard: hard,
    bouncedSoft: 0,
    complaints: options.complaints ?? 0,
  };
}

const evaluate = (rows: WindowCounts[], pauses: SlicePause[] = [], given = settings) =>
  evaluateBreakers({ rows, pauses, now, settings: given });

describe('the statistics', () => {
  it('takes the one-sided z of a confidence level', () => {
    expect(normalQuantile(0.95)).toBeCloseTo(1.644854, 5);
    expect(normalQuantile(0.99)).toBeCloseTo(2.326348, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
  });

  it('bounds a rate from below with the Wilson score interval', () => {
    const z = normalQuantile(0.95);
    // 3 % of 1,000: the true rate is above 2.23 % with 95 % confidence.
    expect(wilsonLowerBound(30, 1000, z)).toBeCloseTo(0.02232, 4);
    // 20 % of 40: above 11.7 %.
    expect(wilsonLowerBound(8, 40, z)).toBeCloseTo(0.11655, 4);
    // 0.4 % complaints of 10,000 delivered: above 0.309 % — just over the 0.3 % rule.
    expect(wilsonLowerBound(40, 10_000, z)).toBeCloseTo(0.00309, 5);
    expect(wilsonLowerBound(0, 100, z)).toBe(0);
    expect(wilsonLowerBound(0, 0, z)).toBe(0);
  });
});

describe('circuit breakers', () => {
  it('leaves a baseline of a few % invalid addresses alone, however large the sample', () => {
    // 3 % hard bounces: lower bound 2.23 % at 1,000 attempts, 2.73 % at 10,000; both < 5 %.
    expect(evaluate([bucket('google', 1000, 30)])).toEqual([]);
    expect(evaluate([bucket('google', 10_000, 300)])).toEqual([]);
    // 4 % of 1,000: bound 3.10 %, still under.
    expect(evaluate([bucket('google', 1000, 40)])).toEqual([]);
    // Even 5 % exactly never trips: the bound of an observed 5 % of 10,000 is 4.65 %.
    expect(evaluate([bucket('google', 10_000, 500)])).toEqual([]);
  });

  it('pauses the provider whose hard-bounce rate is above 5 % with confidence, with the evidence', () => {
    const trips = evaluate([
      bucket('google', 500, 10),
      bucket('yahoo', 150, 30, { at: ago(30) }),
      bucket('orange', 400, 8),
    ]);
    expect(trips).toHaveLength(1);
    const [trip] = trips;
    expect(trip).toMatchObject({
      tenantId,
      campaignId,
      scope: { provider: 'yahoo' },
      metric: 'bounce_rate',
      evidence: {
        sample: 150,
        events: 30,
        rate: 0.2,
        threshold: 0.05,
        confidence: 0.95,
        delivered: 120,
        bouncedHard: 30,
        since: ago(600).toISOString(),
      },
    });
    // 20 % of 150: the true rate is above 15.2 % with 95 % confidence.
    expect(trip!.evidence.lowerBound).toBeCloseTo(0.1518, 4);
    expect(trip!.reason).toBe(
      'Paused automatically: provider yahoo hard-bounce rate 20.0 % (30 of 150 attempts) over ' +
        'the last 10 min is above the 5.0 % threshold (95 % lower bound 15.2 %).',
    );
  });

  it('sees a sudden change within a minute through the fast window, where the long one dilutes it', () => {
    // Ten minutes at 5 messages/s with 2 % invalid addresses, then the provider starts
    // refusing 20 %: one minute later the ten-minute window shows 3.6 %, the last minute 20 %.
    const before = Array.from({ length: 108 }, (_, i) =>
      bucket('yahoo', 25, i % 2, { at: ago(600 - i * 5) }),
    );
    const after = Array.from({ length: 12 }, (_, i) =>
      bucket('yahoo', 25, 5, { at: ago(60 - i * 5) }),
    );
    const rows = [...before, ...after];
    expect(evaluate(rows)).toEqual([]);
    const trips = evaluate(rows, [], { ...settings, fastWindowMs: 60_000 });
    expect(trips).toHaveLength(1);
    expect(trips[0]!.evidence).toMatchObject({ windowMs: 60_000, sample: 300, events: 60 });
    expect(trips[0]!.reason).toContain('over the last 1 min');
    // The same steady 2 % over the last minute leaves the fast window alone too.
    const steady = Array.from({ length: 120 }, (_, i) =>
      bucket('yahoo', 25, i % 2, { at: ago(600 - i * 5) }),
    );
    expect(evaluate(steady, [], { ...settings, fastWindowMs: 60_000 })).toEqual([]);
  });

  it('needs the minimum sample before it acts', () => {
    // 5 of 10 bounced is alarming, but ten messages are not a rate yet.
    expect(evaluate([bucket('yahoo', 10, 5)])).toEqual([]);
    expect(
      evaluate([bucket('yahoo', 10, 5)], [], {
        ...settings,
        bounceRate: { threshold: 0.05, minSample: 10 },
      }),
    ).toHaveLength(1);
  });

  it('trips on complaints above 0.3 % of delivered mail', () => {
    // 40 complaints of 10,000 delivered (0.4 %): bound 0.309 % > 0.3 %.
    const trips = evaluate([bucket('microsoft', 10_000, 0, { complaints: 40 })]);
    expect(trips.map((t) => [t.scope, t.metric])).toEqual([
      [{ provider: 'microsoft' }, 'complaint_rate'],
    ]);
    // 30 of 10,000 (0.3 %): not above the threshold with confidence.
    expect(evaluate([bucket('microsoft', 10_000, 0, { complaints: 30 })])).toEqual([]);
  });

  it('leaves a slice already paused alone', () => {
    const pauses: SlicePause[] = [{ campaignId, provider: 'yahoo', pool: '', resumedAt: null }];
    expect(evaluate([bucket('yahoo', 150, 30)], pauses)).toEqual([]);
  });

  it('counts only outcomes after the slice was last resumed', () => {
    const rows = [
      bucket('yahoo', 150, 30, { at: ago(120) }),
      bucket('yahoo', 50, 1, { at: ago(20) }),
    ];
    const resumed: SlicePause[] = [{ campaignId, provider: 'yahoo', pool: '', resumedAt: ago(60) }];
    expect(evaluate(rows, resumed)).toEqual([]);
    // Another provider's resume does not clear yahoo's evidence.
    const other: SlicePause[] = [{ campaignId, provider: 'google', pool: '', resumedAt: ago(60) }];
    expect(evaluate(rows, other).map((t) => t.scope)).toEqual([{ provider: 'yahoo' }]);
  });

  it('judges a pool without the providers that trip, so one bad provider does not stop the pool', () => {
    // The pool as a whole: 40 of 700 (5.7 %), bound 4.4 %. Without yahoo: 10 of 550.
    const rows = [bucket('google', 300, 5), bucket('orange', 250, 5), bucket('yahoo', 150, 30)];
    expect(evaluate(rows).map((t) => t.scope)).toEqual([{ provider: 'yahoo' }]);
  });

  it('pauses a pool whose providers all bounce a little too much, and only that pool', () => {
    // No provider has enough attempts alone; the pool does: 16 of 180 (8.9 %), bound 6.0 %.
    const rows = [
      bucket('google', 60, 5, { pool: 'shared' }),
      bucket('orange', 60, 6, { pool: 'shared' }),
      bucket('yahoo', 60, 5, { pool: 'shared' }),
      bucket('google', 60, 1, { pool: 'dedicated' }),
    ];
    expect(evaluate(rows).map((t) => t.scope)).toEqual([{ pool: 'shared' }]);
    expect(evaluate(rows, [], { ...settings, pools: false })).toEqual([]);
  });
});
