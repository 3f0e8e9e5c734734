import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MxResolver } from '../src/index';
import { routeOf, startHarness, waitFor, type Harness } from './helpers';

/** The simulator listens on 127.0.0.1 only: 127.0.0.2 on the same port refuses connections. */
const DEAD_HOST = '127.0.0.2';

describe('MX failover and required TLS', () => {
  let harness: Harness;
  const zone: MxResolver = {
    async resolveMx(domain) {
      if (domain === 'failover.test') {
        return [
          { exchange: '127.0.0.1', priority: 20 },
          { exchange: DEAD_HOST, priority: 10 },
        ];
      }
      if (domain === 'bank.test') return [{ exchange: '127.0.0.1', priority: 10 }];
      throw Object.assign(new Error('servfail'), { code: 'ESERVFAIL' });
    },
  };

  beforeAll(async () => {
    harness = await startHarness({
      // One simulated server answers for every domain of this test.
      profiles: [{ name: 'mx', domains: ['failover.test', 'bank.test'] }],
      routes: 'none',
      resolver: zone,
      retryTiersMs: [60_000],
      settings: (simulator) => ({
        mxPort: routeOf(simulator, 'failover.test').port,
        tlsRequiredDomains: ['bank.test'],
      }),
    });
  });
  afterAll(() => harness.close());

  it('tries the next MX host when the preferred one refuses the connection', async () => {
    const id = await harness.send('erin@failover.test');
    await waitFor(() => harness.eventsOf(id).length === 1);
    expect(harness.eventsOf(id)[0]).toMatchObject({
      type: 'delivery.delivered',
      data: { reply: { code: 250 } },
    });
  });

  it('defers a TLS-required domain whose server offers no STARTTLS, sending nothing in clear', async () => {
    const accepted = harness.simulator.stats().mx?.messagesAccepted ?? 0;
    const id = await harness.send('frank@bank.test');
    await waitFor(() => harness.eventsOf(id).length === 1);
    const [event] = harness.eventsOf(id);
    expect(event?.type).toBe('delivery.deferred');
    expect(event?.data.reply?.code).toBeUndefined();
    expect(event?.data.reply?.text).toMatch(/STARTTLS|TLS/i);
    expect(harness.simulator.stats().mx?.messagesAccepted).toBe(accepted);
  });
});
