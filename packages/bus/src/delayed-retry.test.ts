import { describe, expect, it } from 'vitest';
import { delayPlan } from './delayed-retry';

const TIERS = [1_000, 10_000, 60_000, 600_000];

describe('delayPlan', () => {
  it('rides the shortest tier when every tier is longer than the wait', () => {
    expect(delayPlan(TIERS, 300, 0)).toEqual({ tierMs: 1_000 });
  });

  it('uses an exact tier without a due time', () => {
    expect(delayPlan(TIERS, 60_000, 0)).toEqual({ tierMs: 60_000 });
  });

  it('rides the largest fitting tier and carries the due time of a longer wait', () => {
    expect(delayPlan(TIERS, 4 * 3_600_000, 5)).toEqual({
      tierMs: 600_000,
      dueAtMs: 4 * 3_600_000 + 5,
    });
    expect(delayPlan(TIERS, 90_000, 0)).toEqual({ tierMs: 60_000, dueAtMs: 90_000 });
  });
});
