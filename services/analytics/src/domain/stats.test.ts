import { describe, expect, it } from 'vitest';
import { campaignFigures } from './stats';

describe('campaignFigures', () => {
  it('lists every state and counter, zero when absent', () => {
    const figures = campaignFigures({ stateCounts: [], counterSums: [] });
    expect(figures.recipients).toBe(0);
    expect(Object.keys(figures.states)).toHaveLength(10);
    expect(Object.values(figures.states).every((n) => n === 0)).toBe(true);
    expect(figures.counters).toEqual({
      delivered: 0,
      bounced_hard: 0,
      bounced_soft: 0,
      deferred: 0,
      expired: 0,
    });
    expect(figures.rates).toEqual({ delivered: 0, bounced: 0 });
  });

  it('computes rates over recipients that were sent, leaving out excluded ones', () => {
    const figures = campaignFigures({
      stateCounts: [
        { state: 'delivered', count: 6 },
        { state: 'bounced', count: 1 },
        { state: 'deferred', count: 1 },
        { state: 'suppressed', count: 5 },
        { state: 'cancelled', count: 1 },
        { state: 'failed', count: 1 },
      ],
      counterSums: [
        { counter: 'delivered', value: 6 },
        { counter: 'deferred', value: 3 },
      ],
    });
    expect(figures.recipients).toBe(15);
    expect(figures.rates).toEqual({ delivered: 0.75, bounced: 0.125 });
    expect(figures.counters.deferred).toBe(3);
  });

  it('answers zero rates when every recipient was excluded', () => {
    const figures = campaignFigures({
      stateCounts: [{ state: 'suppressed', count: 3 }],
      counterSums: [],
    });
    expect(figures.rates).toEqual({ delivered: 0, bounced: 0 });
  });
});
