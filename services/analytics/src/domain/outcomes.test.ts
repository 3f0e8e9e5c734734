import { describe, expect, it } from 'vitest';
import type { IpPoolName, MessageId } from '@relais/domain';
import { counterShard, outcomeOf } from './outcomes';

const messageId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' as MessageId;
const base = {
  messageId,
  recipientDomain: 'example.test',
  pool: 'default' as IpPoolName,
  attempt: 1,
};

describe('outcomeOf', () => {
  it('makes a delivery final, from any dispatched state that is not final, counted once', () => {
    const outcome = outcomeOf({
      type: 'delivery.delivered',
      data: { ...base, reply: { code: 250, text: '250 OK' } },
    });
    expect(outcome).toMatchObject({
      state: 'delivered',
      final: true,
      reason: '250 OK',
      countOnTransition: 'delivered',
      countAlways: null,
    });
    expect(outcome.from).toEqual(['queued', 'sent', 'deferred']);
  });

  it('counts every deferral and never makes it final', () => {
    const outcome = outcomeOf({
      type: 'delivery.deferred',
      data: { ...base, retryAt: '2026-01-01T00:00:00Z', reason: 'greylisted' },
    });
    expect(outcome).toMatchObject({
      state: 'deferred',
      final: false,
      reason: 'greylisted',
      countOnTransition: null,
      countAlways: 'deferred',
    });
  });

  it('counts hard and soft bounces apart', () => {
    const bounce = (hard: boolean) =>
      outcomeOf({
        type: 'delivery.bounced',
        data: { ...base, reason: 'userunknown', hard, confidence: 1 },
      }).countOnTransition;
    expect(bounce(true)).toBe('bounced_hard');
    expect(bounce(false)).toBe('bounced_soft');
  });

  it('leaves the reason unset for an expiry without a reply', () => {
    expect(outcomeOf({ type: 'delivery.expired', data: base })).toMatchObject({
      state: 'expired',
      final: true,
      reason: null,
      countOnTransition: 'expired',
    });
  });
});

describe('counterShard', () => {
  it('gives a message the same shard every time, within range', () => {
    expect(counterShard(messageId, 16)).toBe(counterShard(messageId, 16));
    expect(counterShard(messageId, 1)).toBe(0);
  });

  it('spreads the messages of a campaign over every shard', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const id = `0190a1b2-c3d4-7e5f-8a9b-${i.toString(16).padStart(12, '0')}`;
      const shard = counterShard(id, 16);
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(16);
      seen.add(shard);
    }
    expect(seen.size).toBe(16);
  });
});
