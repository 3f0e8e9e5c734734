import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLabelledSamples } from './corpus';
import { rankReasons } from './model';
import { assignFolds, trainReasonModel } from './train';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/bounces');

describe('trainReasonModel', () => {
  const samples = readLabelledSamples(FIXTURES);

  it('pairs the fixture bounces with their labels and leaves complaints and auto-replies out', () => {
    expect(samples.length).toBeGreaterThanOrEqual(18);
    const reasons = new Set(samples.map((s) => s.reason));
    expect(reasons).toContain('userunknown');
    for (const kind of ['feedback', 'vacation', 'not-bounce', 'delivered']) {
      expect(reasons).not.toContain(kind);
    }
    const multi = samples.filter((s) => s.group === 'rfc3464-35.eml').map((s) => s.reason);
    expect(multi).toEqual(['rejected', 'networkerror', 'filtered']);
  });

  it('gives identical weights when trained twice on the same samples', () => {
    const options = { epochs: 150 };
    const first = trainReasonModel(samples, options);
    const second = trainReasonModel(samples, options);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(first.training.samples).toBe(samples.length);
    expect(Object.keys(first.weights).length).toBeGreaterThan(0);
  });

  it('learns the fixtures it was trained on', () => {
    const model = trainReasonModel(samples, { epochs: 150 });
    const right = samples.filter(
      (s) => rankReasons(model, s.features)[0]?.reason === s.reason,
    ).length;
    expect(right / samples.length).toBeGreaterThan(0.8);
    expect(model.training.trainingAccuracy).toBe(Math.round((right / samples.length) * 1e4) / 1e4);
  });

  it('keeps the recipients of one message in one fold', () => {
    const folds = assignFolds(samples, 5, 7);
    const byGroup = new Map<string, Set<number>>();
    for (const [i, s] of samples.entries()) {
      byGroup.set(s.group, (byGroup.get(s.group) ?? new Set()).add(folds[i]!));
    }
    for (const set of byGroup.values()) expect(set.size).toBe(1);
    expect(new Set(folds).size).toBe(5);
  });
});
