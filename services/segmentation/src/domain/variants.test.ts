import { describe, expect, it } from 'vitest';
import { RelaisError } from '@relais/domain';
import { variantOfBucket, variantThresholds } from './variants';

describe('variantThresholds', () => {
  it.each([
    { weights: [100], upTo: [10_000] },
    { weights: [30, 70], upTo: [3_000, 10_000] },
    { weights: [20, 30, 50], upTo: [2_000, 5_000, 10_000] },
    { weights: ['33.33', '33.33', '33.34'], upTo: [3_333, 6_666, 10_000] },
    { weights: ['0.01', '99.99'], upTo: [1, 10_000] },
  ])('turns percent weights $weights into cumulative buckets $upTo', ({ weights, upTo }) => {
    const variants = weights.map((weight, i) => ({ name: `v${i}`, weight }));
    expect(variantThresholds(variants).map((t) => t.upTo)).toEqual(upTo);
  });

  it('keeps the variants in the given order', () => {
    const thresholds = variantThresholds([
      { name: 'B', weight: 50 },
      { name: 'A', weight: 50 },
    ]);
    expect(thresholds.map((t) => t.name)).toEqual(['B', 'A']);
  });

  it.each([
    { case: 'no variants', weights: [] },
    { case: 'a total below 100', weights: [30, 60] },
    { case: 'a total above 100', weights: [60, 60] },
    { case: 'a zero weight', weights: [100, 0] },
    { case: 'a weight that is not a number', weights: ['abc'] },
  ])('refuses $case without retry', ({ weights }) => {
    const variants = weights.map((weight, i) => ({ name: `v${i}`, weight }));
    try {
      variantThresholds(variants);
      expect.unreachable('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(RelaisError);
      expect((error as RelaisError).code).toBe('VALIDATION_FAILED');
      expect((error as RelaisError).retryable).toBe(false);
    }
  });
});

describe('variantOfBucket', () => {
  const thresholds = variantThresholds([
    { name: 'A', weight: 20 },
    { name: 'B', weight: 30 },
    { name: 'C', weight: 50 },
  ]);

  it.each([
    { bucket: 0, variant: 'A' },
    { bucket: 1_999, variant: 'A' },
    { bucket: 2_000, variant: 'B' },
    { bucket: 4_999, variant: 'B' },
    { bucket: 5_000, variant: 'C' },
    { bucket: 9_999, variant: 'C' },
  ])('assigns bucket $bucket to $variant', ({ bucket, variant }) => {
    expect(variantOfBucket(thresholds, bucket)).toBe(variant);
  });

  it('gives every share of the buckets its weight', () => {
    const counts = new Map<string, number>();
    for (let bucket = 0; bucket < 10_000; bucket++) {
      const variant = variantOfBucket(thresholds, bucket);
      counts.set(variant, (counts.get(variant) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ A: 2_000, B: 3_000, C: 5_000 });
  });
});
