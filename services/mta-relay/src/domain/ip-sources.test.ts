import { describe, expect, it } from 'vitest';
import {
  chooseSource,
  nextUtcDayMs,
  pickWeighted,
  utcDay,
  warmupCap,
  type IpSource,
  type RoundRobinState,
} from './ip-sources';

const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1);

function picks(weights: number[], count: number, eligible = weights.map(() => true)): number[] {
  let state: RoundRobinState = [];
  const counts = weights.map(() => 0);
  for (let i = 0; i < count; i += 1) {
    const picked = pickWeighted(state, weights, eligible);
    state = picked.state;
    counts[picked.index] = (counts[picked.index] ?? 0) + 1;
  }
  return counts;
}

describe('pickWeighted', () => {
  it('spreads 1,000 picks by the weights within 2 %', () => {
    const weights = [5, 3, 2];
    const counts = picks(weights, 1_000);
    weights.forEach((weight, i) => {
      expect(Math.abs((counts[i] ?? 0) / 1_000 - weight / 10)).toBeLessThanOrEqual(0.02);
    });
  });

  it('interleaves instead of sending bursts from the heaviest source', () => {
    let state: RoundRobinState = [];
    const order: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const picked = pickWeighted(state, [5, 1, 1], [true, true, true]);
      state = picked.state;
      order.push(picked.index);
    }
    expect(order).toEqual([0, 0, 1, 0, 2, 0, 0]);
  });

  it('skips ineligible sources and says when none is left', () => {
    expect(picks([1, 1, 1], 90, [true, false, true])).toEqual([45, 0, 45]);
    expect(pickWeighted([], [1, 1], [false, false]).index).toBe(-1);
  });
});

describe('warmupCap', () => {
  it('follows a list of daily caps, then leaves the source uncapped', () => {
    const plan = { startMs: START, dailyCaps: [50, 100, 200] };
    expect(warmupCap(plan, START - DAY)).toBe(50);
    expect(warmupCap(plan, START + 5)).toBe(50);
    expect(warmupCap(plan, START + DAY + 5)).toBe(100);
    expect(warmupCap(plan, START + 2 * DAY + DAY - 1)).toBe(200);
    expect(warmupCap(plan, START + 3 * DAY)).toBe(Infinity);
  });

  it('doubles from the first day until the warm volume', () => {
    const plan = { startMs: START, firstDayCap: 50, growthFactor: 2, warmCap: 400 };
    expect([0, 1, 2, 3].map((day) => warmupCap(plan, START + day * DAY))).toEqual([
      50,
      100,
      200,
      Infinity,
    ]);
    expect(warmupCap(undefined, START)).toBe(Infinity);
  });

  it('rolls the day over at 00:00 UTC', () => {
    expect(utcDay(START + DAY - 1)).toBe(utcDay(START));
    expect(utcDay(START + DAY)).toBe(utcDay(START) + 1);
    expect(nextUtcDayMs(START + 12 * 3_600_000)).toBe(START + DAY);
  });
});

describe('chooseSource', () => {
  const sources: IpSource[] = [
    {
      address: '192.0.2.1',
      ehlo: 'mta1.example',
      weight: 1,
      warmup: { startMs: START, dailyCaps: [2, 4] },
    },
    { address: '192.0.2.2', ehlo: 'mta2.example', weight: 1 },
  ];

  it('skips a source at its cap and uses it again the next UTC day', () => {
    const capped = chooseSource(sources, [], [2, 10], START + 3_600_000);
    expect(capped).toMatchObject({ kind: 'source', index: 1 });
    const nextDay = chooseSource(sources, [], [0, 0], START + DAY);
    expect(nextDay).toMatchObject({ kind: 'source', index: 0 });
  });

  it('never sends from a source of weight 0, even when it is the only one left', () => {
    const draining: IpSource[] = [
      { address: '192.0.2.1', ehlo: 'mta1.example', weight: 0 },
      {
        address: '192.0.2.2',
        ehlo: 'mta2.example',
        weight: 1,
        warmup: { startMs: START, dailyCaps: [1] },
      },
    ];
    expect(chooseSource(draining, [], [0, 0], START)).toMatchObject({ kind: 'source', index: 1 });
    expect(chooseSource(draining, [], [0, 1], START)).toMatchObject({ kind: 'capped' });
  });

  it('postpones to the next UTC day when every source is at its cap', () => {
    const onlyWarming = [sources[0] as IpSource];
    const noon = START + DAY + 12 * 3_600_000;
    expect(chooseSource(onlyWarming, [], [4], noon)).toEqual({
      kind: 'capped',
      retryAtMs: START + 2 * DAY,
    });
  });

  it('counts a fake clock of sends per day against the ramp', () => {
    const onlyWarming = [sources[0] as IpSource];
    const sentPerDay: number[] = [];
    for (let day = 0; day < 3; day += 1) {
      let sent = 0;
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const nowMs = START + day * DAY + attempt * 60_000;
        if (chooseSource(onlyWarming, [], [sent], nowMs).kind === 'source') sent += 1;
      }
      sentPerDay.push(sent);
    }
    expect(sentPerDay).toEqual([2, 4, 10]);
  });
});
