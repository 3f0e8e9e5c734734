import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './token-bucket';

describe('createRateLimiter', () => {
  it('lets a burst through, refuses the next and refills at the rate', () => {
    let clock = 0;
    const limiter = createRateLimiter({ perSecond: 2, burst: 3, now: () => clock });
    expect([1, 2, 3].map(() => limiter.take('k').ok)).toEqual([true, true, true]);
    expect(limiter.take('k')).toEqual({ ok: false, retryAfterMs: 500 });
    clock = 500;
    expect(limiter.take('k').ok).toBe(true);
    expect(limiter.take('k').ok).toBe(false);
  });

  it('keeps one bucket per key', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, now: () => 0 });
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true);
  });

  it('forgets the least recently used key past maxKeys, which then starts full', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, now: () => 0, maxKeys: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('c').ok).toBe(false);
  });
});
