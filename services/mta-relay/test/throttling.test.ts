import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from './helpers';

/** The simulated provider meters each client at R messages per second and answers 421 beyond. */
const R = 5;
const SLOW_BACKLOG = 260;
const FAST_BATCH = 100;
/** The measured window: after convergence, well within the two minutes asked for. */
const WINDOW_START_MS = 15_000;
const WINDOW_END_MS = 40_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('adaptive throttling against a throttling provider', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      profiles: [
        {
          name: 'slow',
          domains: ['slow.test'],
          latencyMs: 20,
          maxConnectionsPerClient: 10,
          ratePerSecond: R,
          rateBurst: R,
        },
        { name: 'fast', domains: ['fast.test'], latencyMs: 5, maxConnectionsPerClient: 10 },
      ],
      // Short tiers: a postponed message comes back within about a second.
      retryTiersMs: [250, 1_000],
      maxAttempts: 50,
      settings: {
        prefetch: 16,
        readyQueueMax: 4,
        maxReadyWait: 1_000,
        providerProfiles: [
          {
            name: 'slow-provider',
            domains: ['slow.test'],
            maxConnections: 3,
            initialRatePerSecond: 2,
            maxRatePerSecond: 50,
          },
        ],
      },
    });
  }, 60_000);
  afterAll(() => harness.close());

  const delivered = (domain: string) =>
    harness.events.filter(
      (event) => event.type === 'delivery.delivered' && event.data.recipientDomain === domain,
    );

  const fastBatch = async () => {
    const before = delivered('fast.test').length;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: FAST_BATCH }, (_, i) => harness.send(`f${before + i}@fast.test`)),
    );
    await waitFor(() => delivered('fast.test').length >= before + FAST_BATCH, 20_000);
    return (FAST_BATCH / (Date.now() - started)) * 1000;
  };

  it(
    'drives the provider within ±20 % of its rate while a healthy domain keeps flowing',
    async () => {
      const fastAlonePerSecond = await fastBatch();
      const startedMs = Date.now();
      await Promise.all(
        Array.from({ length: SLOW_BACKLOG }, (_, i) => harness.send(`s${i}@slow.test`)),
      );
      await sleep(WINDOW_START_MS - (Date.now() - startedMs));
      const atStart = {
        delivered: delivered('slow.test').length,
        refused: harness.simulator.stats().slow?.refusals.rate_limited ?? 0,
        atMs: Date.now(),
      };
      const fastDuringPerSecond = await fastBatch();
      const slowLeftWhenFastDone = SLOW_BACKLOG - delivered('slow.test').length;
      await sleep(WINDOW_END_MS - (Date.now() - startedMs));
      const atEnd = {
        delivered: delivered('slow.test').length,
        refused: harness.simulator.stats().slow?.refusals.rate_limited ?? 0,
        atMs: Date.now(),
      };
      const seconds = (atEnd.atMs - atStart.atMs) / 1000;
      const slowPerSecond = (atEnd.delivered - atStart.delivered) / seconds;
      const refusals = atEnd.refused - atStart.refused;
      const refusedShare = refusals / Math.max(1, refusals + atEnd.delivered - atStart.delivered);
      const throttle = harness.relay.throttles();
      const site = throttle.sites.find((state) => state.site === 'slow-provider');
      console.log(
        JSON.stringify({
          providerRatePerSecond: R,
          windowSeconds: [WINDOW_START_MS / 1000, WINDOW_END_MS / 1000],
          slowDeliveredPerSecond: Number(slowPerSecond.toFixed(2)),
          slow421Share: Number(refusedShare.toFixed(3)),
          controllerRatePerSecond: Number((site?.ratePerSecond ?? 0).toFixed(2)),
          postponedWithoutAttempt: throttle.postponed,
          fastAlonePerSecond: Math.round(fastAlonePerSecond),
          fastDuringThrottlePerSecond: Math.round(fastDuringPerSecond),
          slowBacklogLeftWhenFastBatchDone: slowLeftWhenFastDone,
        }),
      );
      expect(slowPerSecond).toBeGreaterThanOrEqual(R * 0.8);
      expect(slowPerSecond).toBeLessThanOrEqual(R * 1.2);
      expect(refusedShare).toBeLessThan(0.05);
      // The healthy domain's batch went through while the throttled backlog was still waiting.
      expect(slowLeftWhenFastDone).toBeGreaterThan(FAST_BATCH);
      expect(throttle.postponed).toBeGreaterThan(0);
      expect(harness.deadLettered).toEqual([]);
    },
    WINDOW_END_MS + 15_000,
  );
});
