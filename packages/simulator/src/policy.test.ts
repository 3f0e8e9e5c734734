import { describe, expect, it } from 'vitest';
import { Greylist, TokenBuckets } from './limits';
import { classifyRecipient, ProviderPolicy } from './policy';
import { parseProfiles } from './profile';

function fakeClock(startMs = 0) {
  let nowMs = startMs;
  return { now: () => nowMs, sleep: async () => {}, advance: (ms: number) => (nowMs += ms) };
}

describe('classifyRecipient', () => {
  const [profile] = parseProfiles([
    { name: 'p', domains: ['p.test'], unknownUserRate: 0.1, mailboxFullRate: 0.05 },
  ]);

  it('gives an address the same fate on every call for a seed', () => {
    const addresses = Array.from({ length: 200 }, (_, i) => `user${i}@p.test`);
    const first = addresses.map((a) => classifyRecipient(profile!, a, 7));
    expect(addresses.map((a) => classifyRecipient(profile!, a.toUpperCase(), 7))).toEqual(first);
  });

  it('draws unknown and full mailboxes close to their rates', () => {
    const fates = Array.from({ length: 20_000 }, (_, i) =>
      classifyRecipient(profile!, `u${i}@p.test`, 1),
    );
    const share = (fate: string) => fates.filter((f) => f === fate).length / fates.length;
    expect(share('unknown_user')).toBeCloseTo(0.1, 1);
    expect(share('mailbox_full')).toBeCloseTo(0.05 * 0.9, 1);
  });

  it('applies explicit lists before rates, matching the local part or the whole address', () => {
    const [listed] = parseProfiles([
      {
        name: 'l',
        domains: ['l.test'],
        unknownUsers: ['gone-*', 'x@l.test'],
        fullMailboxes: ['*full'],
      },
    ]);
    expect(classifyRecipient(listed!, 'gone-42@l.test', 1)).toBe('unknown_user');
    expect(classifyRecipient(listed!, 'X@L.test', 1)).toBe('unknown_user');
    expect(classifyRecipient(listed!, 'isfull@l.test', 1)).toBe('mailbox_full');
    expect(classifyRecipient(listed!, 'alice@l.test', 1)).toBe('deliverable');
  });
});

describe('TokenBuckets', () => {
  it('grants the burst, then one token per 1/rate seconds, per key', () => {
    const clock = fakeClock();
    const buckets = new TokenBuckets(2, 3, clock);
    expect([1, 2, 3, 4].map(() => buckets.take('a'))).toEqual([true, true, true, false]);
    expect(buckets.take('b')).toBe(true);
    clock.advance(499);
    expect(buckets.take('a')).toBe(false);
    clock.advance(1);
    expect(buckets.take('a')).toBe(true);
  });
});

describe('Greylist', () => {
  it('defers a new triple and its early retries, then admits it for good', () => {
    const clock = fakeClock();
    const greylist = new Greylist(1_000, clock);
    expect(greylist.admit('10.0.0.1', 's@x.test', 'r@p.test')).toBe(false);
    clock.advance(999);
    expect(greylist.admit('10.0.0.1', 's@x.test', 'r@p.test')).toBe(false);
    expect(greylist.admit('10.0.0.2', 's@x.test', 'r@p.test')).toBe(false);
    clock.advance(1);
    expect(greylist.admit('10.0.0.1', 's@x.test', 'R@p.test')).toBe(true);
    clock.advance(3_600_000);
    expect(greylist.admit('10.0.0.1', 's@x.test', 'r@p.test')).toBe(true);
  });
});

describe('ProviderPolicy', () => {
  it('caps open connections per client IP and frees a slot on disconnect', () => {
    const [profile] = parseProfiles([
      { name: 'p', domains: ['p.test'], maxConnectionsPerClient: 2 },
    ]);
    const policy = new ProviderPolicy(profile!, 1, fakeClock());
    expect(['a', 'a', 'a', 'b'].map((ip) => policy.connected(ip))).toEqual([
      null,
      null,
      'too_many_connections',
      null,
    ]);
    policy.disconnected('a');
    expect(policy.connected('a')).toBeNull();
  });

  it('charges the rate limit once per message, at its first recipient', () => {
    const [profile] = parseProfiles([
      { name: 'p', domains: ['p.test'], ratePerSecond: 1, rateBurst: 1 },
    ]);
    const policy = new ProviderPolicy(profile!, 1, fakeClock());
    const rcpt = (firstOfMessage: boolean) =>
      policy.recipient({
        clientIp: 'a',
        sender: 's@x.test',
        recipient: 'r@p.test',
        firstOfMessage,
        acceptedSoFar: 0,
      });
    expect([rcpt(true), rcpt(false), rcpt(false), rcpt(true)]).toEqual([
      null,
      null,
      null,
      'rate_limited',
    ]);
  });

  it('draws latency within the configured range', () => {
    const [profile] = parseProfiles([
      { name: 'p', domains: ['p.test'], latencyMs: { min: 10, max: 20 } },
    ]);
    const policy = new ProviderPolicy(profile!, 1, fakeClock());
    const draws = Array.from({ length: 100 }, () => policy.latencyMs());
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...draws)).toBeLessThanOrEqual(20);
  });
});
