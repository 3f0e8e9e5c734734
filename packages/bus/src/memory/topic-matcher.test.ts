import { describe, expect, it } from 'vitest';
import { matchesTopic } from './topic-matcher';

describe('topic matcher', () => {
  it.each([
    ['delivery.*', 'delivery.bounced', true],
    ['delivery.*', 'delivery', false],
    ['delivery.*', 'delivery.bounced.hard', false],
    ['delivery.#', 'delivery', true],
    ['delivery.#', 'delivery.bounced.hard', true],
    ['#', '', true],
    ['#', 'a.b.c', true],
    ['#.bounced', 'delivery.bounced', true],
    ['#.bounced', 'bounced', true],
    ['#.bounced', 'delivery.bounced.x', false],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c.y', false],
    ['a.*.#', 'a', false],
    ['a.*.#', 'a.b', true],
    ['*.*', 'a.b', true],
    ['*.*', 'a', false],
    ['*', '', true],
    ['a..b', 'a..b', true],
    ['a.*.b', 'a..b', true],
    ['#.#', 'x', true],
    ['a.#.b.#.c', 'a.b.x.b.c', true],
    ['a.#.b.#.c', 'a.c.b', false],
    ['campaign.launched', 'campaign.launched', true],
    ['campaign.launched', 'campaign.paused', false],
  ])('pattern %j against key %j is %s', (pattern, key, expected) => {
    expect(matchesTopic(pattern, key)).toBe(expected);
  });

  it('stays fast on patterns that would make naive backtracking explode', () => {
    const pattern = '#.#.#.#.#.#.#.#.#.#.z';
    const key = Array.from({ length: 40 }, () => 'a').join('.');
    const started = performance.now();
    expect(matchesTopic(pattern, key)).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
  });
});
