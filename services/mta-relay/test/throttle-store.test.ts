import { openMigratedStore, storeDrivers } from '@relais/model/testing';
import { describe, expect, it } from 'vitest';
import { compileProfiles, createSendScheduler, createThrottleStore, siteOf } from '../src/index';
import type { ThrottleSnapshot } from '../src/ports';
import { silentLogger } from './helpers';

const drivers = await storeDrivers('relais_relay', silentLogger);

function snapshot(overrides: Partial<ThrottleSnapshot> = {}): ThrottleSnapshot {
  return {
    version: 1,
    pool: 'default',
    site: 'google',
    ratePerSecond: 12.5,
    concurrency: 3.5,
    backoffUntilMs: 0,
    consecutiveCuts: 0,
    accepted: 10,
    throttled: 1,
    inFlight: 0,
    waiting: 0,
    history: [
      { atMs: 1_000, event: 'cut', cause: 'throttled', ratePerSecond: 12.5, concurrency: 3.5 },
    ],
    ...overrides,
  };
}

describe.each(drivers)('relay_throttle_state on $name', (driver) => {
  it('saves learned states, upserts them, and loads them back by (pool, site)', async () => {
    const { store, drop } = await openMigratedStore(driver, silentLogger);
    try {
      const throttles = createThrottleStore(store);
      expect((await throttles.load()).size).toBe(0);
      const backoffUntilMs = Date.now() + 30_000;
      await throttles.save([snapshot(), snapshot({ site: 'yahoo', ratePerSecond: 2 })]);
      await throttles.save([snapshot({ ratePerSecond: 8, backoffUntilMs, consecutiveCuts: 2 })]);
      const learned = await throttles.load();
      expect(learned.size).toBe(2);
      const google = [...learned.entries()].find(([key]) => key.endsWith('google'))?.[1];
      expect(google).toMatchObject({ ratePerSecond: 8, concurrency: 3.5, consecutiveCuts: 2 });
      expect(Math.abs((google?.backoffUntilMs ?? 0) - backoffUntilMs)).toBeLessThan(5);
      expect(google?.history[0]).toMatchObject({ event: 'cut', cause: 'throttled' });
    } finally {
      await drop();
    }
  });

  it('lets a restarted relay start a site from what an earlier one learned', async () => {
    const { store, drop } = await openMigratedStore(driver, silentLogger);
    try {
      const throttles = createThrottleStore(store);
      const site = siteOf(compileProfiles(), {
        domain: 'customer.example',
        hosts: ['aspmx.l.google.com'],
        port: 25,
      });
      const first = createSendScheduler({ readyQueueMax: 4, maxReadyWaitMs: 1_000 });
      const slot = await first.acquire('bulk', site, 'm-1');
      if (slot.kind !== 'granted') throw new Error('expected a slot');
      slot.release('throttled');
      const changed = first.snapshot(true);
      expect(changed).toHaveLength(1);
      await throttles.save(changed);
      first.markSaved(changed);
      expect(first.snapshot(true)).toEqual([]);
      first.close();

      const second = createSendScheduler({
        readyQueueMax: 4,
        maxReadyWaitMs: 1_000,
        learned: await throttles.load(),
      });
      await second.acquire('bulk', site, 'm-2');
      const [restored] = second.snapshot(false);
      // Google starts at 20/s; one cut took it to 16/s, and that is where the new run starts.
      expect(restored?.ratePerSecond).toBeCloseTo(site.profile.initialRatePerSecond * 0.8);
      expect(restored?.history.map((entry) => entry.event)).toEqual(['cut', 'restore']);
      second.close();
    } finally {
      await drop();
    }
  });
});
