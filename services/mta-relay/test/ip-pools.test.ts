import { openMigratedStore, storeDrivers } from '@relais/model/testing';
import type { AcceptedMessage } from '@relais/simulator';
import { IpPoolNameSchema } from '@relais/domain';
import { afterEach, describe, expect, it } from 'vitest';
import { createWarmupStore, relaySettingsSchema } from '../src/index';
import { silentLogger, startHarness, waitFor, type Harness } from './helpers';

// Linux routes all of 127/8 to the loopback interface: a socket can bind 127.0.0.2 and reach
// the simulator listening on 127.0.0.1, so two "egress addresses" exist on any test machine.
const drivers = await storeDrivers('relais_relay', silentLogger);
const DAY_MS = 86_400_000;

/** The pools as the relay's settings parse them (days and defaults as in production). */
const WARM = IpPoolNameSchema.parse('warm');
const FRESH = IpPoolNameSchema.parse('fresh');
const ipPoolsOf = (input: unknown) => relaySettingsSchema.parse({ ipPools: input }).ipPools;

function bySource(messages: readonly AcceptedMessage[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const message of messages) {
    const address = message.clientAddress.replace(/^::ffff:/, '');
    (out[address] ??= []).push(message.clientHelo);
  }
  return out;
}

function delivered(harness: Harness): number {
  return harness.events.filter((event) => event.type === 'delivery.delivered').length;
}

describe('IP pools: source addresses, EHLO names, weights and warm-up caps', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('binds each connection to a source by weight and says that source’s EHLO name', async () => {
    const ipPools = ipPoolsOf({
      warm: {
        sources: [
          { address: '127.0.0.1', ehlo: 'mta1.relais.test', weight: 3 },
          { address: '127.0.0.2', ehlo: 'mta2.relais.test', weight: 1 },
        ],
      },
    });
    const harness = await startHarness({
      profiles: [{ name: 'inbox', domains: ['inbox.test'] }],
      settings: { pools: ['default', 'warm'], ipPools },
    });
    cleanups.push(() => harness.close());
    for (let i = 0; i < 40; i += 1) await harness.send(`user${i}@inbox.test`, { pool: WARM });
    await harness.send('plain@inbox.test');
    await waitFor(() => delivered(harness) === 41);

    const sources = bySource(harness.simulator.messages());
    // The pool without sources leaves from the OS default (127.0.0.1 toward a loopback
    // listener) with the relay-wide EHLO name.
    expect(sources['127.0.0.1']?.filter((ehlo) => ehlo === 'mta1.relais.test')).toHaveLength(30);
    expect(sources['127.0.0.2']).toEqual(Array.from({ length: 10 }, () => 'mta2.relais.test'));
    expect(harness.relay.sources()).toEqual([
      expect.objectContaining({ address: '127.0.0.1', sentToday: 30, capToday: null }),
      expect.objectContaining({ address: '127.0.0.2', sentToday: 10, capToday: null }),
    ]);
  });

  describe.each(drivers)('warm-up counts on $name', (driver) => {
    it('stops a source at its cap, postpones when the pool is full, and keeps the counts', async () => {
      const { store, drop } = await openMigratedStore(driver, silentLogger);
      cleanups.push(drop);
      const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
      const warmupStore = createWarmupStore(store);
      // Another replica already sent 2 messages from 127.0.0.2 today.
      await warmupStore.add([
        { source: '127.0.0.2', day: Math.floor(Date.now() / DAY_MS), sent: 2 },
      ]);
      const harness = await startHarness({
        profiles: [{ name: 'inbox', domains: ['inbox.test'] }],
        settings: {
          pools: ['fresh'],
          ipPools: ipPoolsOf({
            fresh: {
              sources: [
                {
                  address: '127.0.0.1',
                  ehlo: 'new1.relais.test',
                  weight: 1,
                  warmup: { start: today, dailyCaps: [5, 10] },
                },
                {
                  address: '127.0.0.2',
                  ehlo: 'new2.relais.test',
                  weight: 1,
                  warmup: { start: today, firstDayCap: 5, growthFactor: 2, warmCap: 1_000 },
                },
              ],
            },
          }),
        },
        relayOptions: { warmupStore },
      });
      let closed = false;
      cleanups.push(async () => {
        if (!closed) await harness.close();
      });
      const ids: string[] = [];
      for (let i = 0; i < 12; i += 1)
        ids.push(await harness.send(`w${i}@inbox.test`, { pool: FRESH }));
      await waitFor(() => delivered(harness) === 8);
      // Every message was handled: 8 sent, 4 handed back to the bus until tomorrow.
      await waitFor(() =>
        harness.relay.sources().every((source) => source.sentToday === source.capToday),
      );
      await new Promise((resolve) => setTimeout(resolve, 600));

      const sources = bySource(harness.simulator.messages());
      expect(sources['127.0.0.1']).toEqual(Array.from({ length: 5 }, () => 'new1.relais.test'));
      expect(sources['127.0.0.2']).toEqual(Array.from({ length: 3 }, () => 'new2.relais.test'));
      expect(harness.relay.sources().map((s) => [s.address, s.sentToday, s.capToday])).toEqual([
        ['127.0.0.1', 5, 5],
        ['127.0.0.2', 5, 5],
      ]);
      // The four left over were neither bounced nor deferred nor dead-lettered.
      expect(harness.events.map((event) => event.type)).toEqual(
        Array.from({ length: 8 }, () => 'delivery.delivered'),
      );
      expect(ids.filter((id) => harness.eventsOf(id).length === 0)).toHaveLength(4);
      expect(harness.deadLettered).toEqual([]);

      closed = true;
      await harness.close();
      const stored = await warmupStore.load(Math.floor(Date.now() / DAY_MS));
      expect(Object.fromEntries(stored)).toEqual({ '127.0.0.1': 5, '127.0.0.2': 5 });
    });
  });
});
