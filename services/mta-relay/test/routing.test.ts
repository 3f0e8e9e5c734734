import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MxRecord, MxResolver } from '../src/index';
import { routeOf, startHarness, waitFor, type Harness } from './helpers';

/** A fake DNS zone that records every MX query it answers. */
function fakeZone(records: Record<string, MxRecord[]>): MxResolver & { queries: string[] } {
  const queries: string[] = [];
  return {
    queries,
    async resolveMx(domain) {
      queries.push(domain);
      const answer = records[domain];
      if (answer === undefined) throw Object.assign(new Error('no data'), { code: 'ESERVFAIL' });
      return answer;
    },
  };
}

describe('destinations: static routes, then MX', () => {
  let harness: Harness;
  const zone = fakeZone({
    'mx.example': [
      { exchange: 'backup.invalid', priority: 20 },
      { exchange: '127.0.0.1', priority: 10 },
    ],
    'nullmx.example': [{ exchange: '.', priority: 0 }],
  });

  beforeAll(async () => {
    harness = await startHarness({
      profiles: [
        { name: 'routed', domains: ['routed.test'] },
        { name: 'viamx', domains: ['mx.example'] },
      ],
      routes: 'none',
      resolver: zone,
      retryTiersMs: [60_000],
      settings: (simulator) => ({
        routes: [
          {
            pattern: 'routed.test',
            host: '127.0.0.1',
            port: routeOf(simulator, 'routed.test').port,
          },
        ],
        mxPort: routeOf(simulator, 'mx.example').port,
      }),
    });
  });
  afterAll(() => harness.close());

  it('sends a statically routed domain to its route without asking DNS', async () => {
    const id = await harness.send('dave@routed.test');
    await waitFor(() => harness.eventsOf(id).length === 1);
    expect(harness.eventsOf(id)[0]?.type).toBe('delivery.delivered');
    expect(harness.simulator.stats().routed?.messagesAccepted).toBe(1);
    expect(zone.queries).not.toContain('routed.test');
  });

  it('sends other domains to their best MX, asking DNS once per domain', async () => {
    const first = await harness.send('erin@mx.example');
    const second = await harness.send('frank@mx.example');
    await waitFor(() => harness.eventsOf(first).length + harness.eventsOf(second).length === 2);
    expect(harness.eventsOf(first)[0]?.type).toBe('delivery.delivered');
    expect(harness.eventsOf(second)[0]?.type).toBe('delivery.delivered');
    expect(harness.simulator.stats().viamx?.messagesAccepted).toBe(2);
    expect(zone.queries.filter((domain) => domain === 'mx.example')).toHaveLength(1);
  });

  it('bounces a null-MX domain without connecting', async () => {
    const id = await harness.send('gina@nullmx.example');
    await waitFor(() => harness.eventsOf(id).length === 1);
    expect(harness.eventsOf(id)[0]?.data).toMatchObject({
      hard: true,
      reason: 'notaccept',
      reply: { code: 556, enhanced: '5.1.10' },
    });
  });

  it('defers when DNS cannot answer', async () => {
    const id = await harness.send('hank@servfail.example');
    await waitFor(() => harness.eventsOf(id).length === 1);
    const [event] = harness.eventsOf(id);
    expect(event?.type).toBe('delivery.deferred');
    expect(event?.data.reply?.code).toBeUndefined();
  });
});

describe('connection pooling', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      // The simulator refuses a fourth connection: a relay over its cap would see 421s.
      profiles: [{ name: 'busy', domains: ['busy.test'], maxConnectionsPerClient: 3 }],
      settings: { maxConnectionsPerDestination: 3, maxMessagesPerConnection: 1000, prefetch: 64 },
    });
  });
  afterAll(() => harness.close());

  it('reuses a few capped connections for many messages', async () => {
    const ids = await Promise.all(
      Array.from({ length: 300 }, (_, i) => harness.send(`user${i}@busy.test`)),
    );
    await waitFor(() => ids.every((id) => harness.eventsOf(id).length === 1));
    expect(ids.every((id) => harness.eventsOf(id)[0]?.type === 'delivery.delivered')).toBe(true);
    const stats = harness.simulator.stats().busy;
    expect(stats?.messagesAccepted).toBe(300);
    expect(stats?.connections).toBeLessThanOrEqual(3);
    expect(stats?.refusals.too_many_connections ?? 0).toBe(0);
  });
});
