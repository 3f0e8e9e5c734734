import { describe, expect, it } from 'vitest';
import { RelaisError } from '@relais/domain';
import { createDestinationResolver } from './destination-resolver';

function zone(answers: Record<string, { exchange: string; priority: number }[] | string>) {
  const queries: string[] = [];
  return {
    queries,
    async resolveMx(domain: string) {
      queries.push(domain);
      const answer = answers[domain];
      if (typeof answer === 'string') throw Object.assign(new Error(answer), { code: answer });
      return answer ?? [];
    },
  };
}

describe('createDestinationResolver', () => {
  it('reuses an MX answer until its TTL passes', async () => {
    let nowMs = 0;
    const dns = zone({ 'a.test': [{ exchange: 'mx.a.test', priority: 5 }] });
    const resolver = createDestinationResolver({
      routes: [],
      resolver: dns,
      mxPort: 2525,
      cacheTtlMs: 1_000,
      now: () => nowMs,
    });
    const expected = { kind: 'destination', destination: { host: 'mx.a.test', port: 2525 } };
    expect(await resolver.resolve('a.test')).toEqual(expected);
    nowMs = 999;
    await resolver.resolve('a.test');
    expect(dns.queries).toHaveLength(1);
    nowMs = 1_000;
    await resolver.resolve('a.test');
    expect(dns.queries).toHaveLength(2);
  });

  it('refuses unrouted domains without asking DNS when MX lookup is off', async () => {
    const dns = zone({ 'real.example': [{ exchange: 'mx.real.example', priority: 1 }] });
    const resolver = createDestinationResolver({
      routes: [{ pattern: 'gmail.test', host: '127.0.0.1', port: 2525 }],
      resolver: dns,
      mxPort: 25,
      cacheTtlMs: 1_000,
      mxLookup: false,
    });
    expect(await resolver.resolve('real.example')).toEqual({ kind: 'unroutable' });
    expect(await resolver.resolve('gmail.test')).toEqual({
      kind: 'destination',
      destination: { host: '127.0.0.1', port: 2525 },
    });
    expect(dns.queries).toEqual([]);
  });

  it('treats a domain without MX as its own mail host', async () => {
    const resolver = createDestinationResolver({
      routes: [],
      resolver: zone({ 'b.test': 'ENODATA' }),
      mxPort: 25,
      cacheTtlMs: 1_000,
    });
    expect(await resolver.resolve('b.test')).toEqual({
      kind: 'destination',
      destination: { host: 'b.test', port: 25 },
    });
  });

  it('fails retryably, and caches nothing, when DNS cannot answer', async () => {
    const dns = zone({ 'c.test': 'ESERVFAIL' });
    const resolver = createDestinationResolver({
      routes: [],
      resolver: dns,
      mxPort: 25,
      cacheTtlMs: 60_000,
    });
    const failure = await resolver.resolve('c.test').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RelaisError);
    expect((failure as RelaisError).retryable).toBe(true);
    await resolver.resolve('c.test').catch(() => undefined);
    expect(dns.queries).toHaveLength(2);
  });
});
