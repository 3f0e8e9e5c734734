import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compileProfiles, siteOf } from '../domain/sites';
import type { SlotRequest } from '../ports';
import { createSendScheduler } from './send-scheduler';

// A site at 2 msg/s with one connection: easy to saturate.
const profiles = compileProfiles([
  {
    name: 'tiny',
    domains: ['tiny.example'],
    initialRatePerSecond: 2,
    maxRatePerSecond: 2,
    maxConnections: 1,
  },
]);
const tiny = siteOf(profiles, { domain: 'tiny.example', hosts: ['127.0.0.1'], port: 25 });
const other = siteOf(profiles, { domain: 'other.example', hosts: ['mx.other.example'], port: 25 });

describe('createSendScheduler', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  const scheduler = () =>
    createSendScheduler({
      readyQueueMax: 2,
      maxReadyWaitMs: 2_000,
      now: () => Date.now(),
      random: () => 0.5,
    });

  it('holds a few messages of a busy site and postpones the rest without holding them', async () => {
    const s = scheduler();
    const first = await s.acquire('p', tiny, 'm0');
    expect(first.kind).toBe('granted');
    const waiting: Promise<SlotRequest>[] = [
      s.acquire('p', tiny, 'm1'),
      s.acquire('p', tiny, 'm2'),
    ];
    const third = await s.acquire('p', tiny, 'm3');
    expect(third).toMatchObject({ kind: 'postponed' });
    expect(s.stats().postponed).toBe(1);
    // Another site is not affected by the busy one.
    expect((await s.acquire('p', other, 'x')).kind).toBe('granted');
    if (first.kind === 'granted') first.release('accepted');
    await vi.advanceTimersByTimeAsync(600);
    const second = await waiting[0];
    expect(second?.kind).toBe('granted');
    if (second?.kind === 'granted') second.release('accepted');
    await vi.advanceTimersByTimeAsync(600);
    expect((await waiting[1])?.kind).toBe('granted');
    s.close();
  });

  it('doubles the delay of a message postponed again, up to half the backlog time of its site', async () => {
    const s = scheduler();
    await s.acquire('p', tiny, 'a');
    void s.acquire('p', tiny, 'b');
    void s.acquire('p', tiny, 'c');
    for (let i = 0; i < 40; i += 1) await s.acquire('p', tiny, `backlog-${i}`);
    const delays: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const again = await s.acquire('p', tiny, 'again');
      if (again.kind === 'postponed') delays.push(again.retryAfterMs);
    }
    // 1.5 s of wait, then doubled, until 41 postponed messages at 2/s (20.5 s) halve to 10.25 s.
    expect(delays).toEqual([1_500, 3_000, 6_000, 10_250, 10_250, 10_250]);
    s.close();
  });

  it('serves transactional mail before bulk mail waiting for the same site, whose full ready queue does not postpone it', async () => {
    const s = scheduler();
    const order: string[] = [];
    const first = await s.acquire('p', tiny, 'bulk-0', 'bulk');
    const track = (key: string, request: Promise<SlotRequest>) =>
      request.then((slot) => {
        order.push(`${key}:${slot.kind}`);
        return slot;
      });
    const bulk = [1, 2].map((i) => track(`bulk-${i}`, s.acquire('p', tiny, `bulk-${i}`, 'bulk')));
    expect((await s.acquire('p', tiny, 'bulk-3', 'bulk')).kind).toBe('postponed');
    const urgent = track('tx-1', s.acquire('p', tiny, 'tx-1', 'transactional'));
    expect(s.snapshot(false)[0]).toMatchObject({ waiting: 3, inFlight: 1 });
    // One connection: each release hands the slot to the next waiter, transactional first.
    if (first.kind === 'granted') first.release('accepted');
    for (const pending of [urgent, ...bulk]) {
      await vi.advanceTimersByTimeAsync(600);
      const slot = await pending;
      if (slot.kind === 'granted') slot.release('accepted');
    }
    expect(order).toEqual(['tx-1:granted', 'bulk-1:granted', 'bulk-2:granted']);
    s.close();
  });

  it('cuts a site that throttles and hands waiting messages back on close', async () => {
    const s = scheduler();
    const slot = await s.acquire('p', tiny, 'm0');
    const waiter = s.acquire('p', tiny, 'm1');
    if (slot.kind === 'granted') slot.release('throttled');
    expect(s.snapshot(false)[0]).toMatchObject({ ratePerSecond: 1.6, throttled: 1 });
    s.close();
    expect(await waiter).toEqual({ kind: 'postponed', retryAfterMs: 0 });
  });
});
