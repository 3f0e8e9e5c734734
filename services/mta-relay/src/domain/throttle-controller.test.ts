import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TUNING,
  initialThrottleState,
  recordFeedback,
  restoreThrottleState,
  takeToken,
  type ThrottleLimits,
  type ThrottleState,
} from './throttle-controller';

const LIMITS: ThrottleLimits = { initialRatePerSecond: 2, maxRatePerSecond: 50, maxConnections: 5 };

/**
 * A sender with endless demand against a receiver that meters with a token bucket at
 * `receiverRate`/s (depth `burst`) and answers 421 beyond it, replies arriving `latencyMs`
 * later, all on a fake clock in 5 ms steps. Returns the figures of the window after
 * `settleMs`.
 */
function simulate(options: {
  receiverRate: number;
  burst: number;
  latencyMs: number;
  durationMs: number;
  settleMs: number;
  start?: ThrottleState;
}) {
  let state = options.start ?? initialThrottleState(LIMITS, 0);
  let receiverTokens = options.burst;
  const pending: { atMs: number; accepted: boolean }[] = [];
  let accepted = 0;
  let refused = 0;
  let inFlight = 0;
  for (let nowMs = 0; nowMs <= options.durationMs; nowMs += 5) {
    receiverTokens = Math.min(options.burst, receiverTokens + (options.receiverRate * 5) / 1000);
    while (pending.length > 0 && (pending[0]?.atMs ?? Infinity) <= nowMs) {
      const reply = pending.shift();
      inFlight -= 1;
      state = recordFeedback(
        state,
        LIMITS,
        reply?.accepted === true ? 'accepted' : 'throttled',
        nowMs,
      );
    }
    while (inFlight < Math.floor(state.concurrency)) {
      const grant = takeToken(state, nowMs);
      state = grant.state;
      if (!grant.granted) break;
      const ok = receiverTokens >= 1;
      if (ok) receiverTokens -= 1;
      if (nowMs >= options.settleMs) {
        if (ok) accepted += 1;
        else refused += 1;
      }
      inFlight += 1;
      pending.push({ atMs: nowMs + options.latencyMs, accepted: ok });
    }
  }
  const windowSeconds = (options.durationMs - options.settleMs) / 1000;
  return {
    acceptedPerSecond: accepted / windowSeconds,
    refusedShare: refused / Math.max(1, accepted + refused),
    state,
  };
}

describe('throttle controller (AIMD on a fake clock)', () => {
  it.each([
    { receiverRate: 5, burst: 5 },
    { receiverRate: 20, burst: 20 },
    { receiverRate: 3, burst: 3 },
  ])(
    'converges to a receiver metering at $receiverRate/s within ±20 % and under 5 % of 421s',
    ({ receiverRate, burst }) => {
      const result = simulate({
        receiverRate,
        burst,
        latencyMs: 80,
        durationMs: 180_000,
        settleMs: 120_000,
      });
      console.log(
        `controller vs ${receiverRate}/s receiver: ${result.acceptedPerSecond.toFixed(2)} accepted/s, ` +
          `421 share ${(result.refusedShare * 100).toFixed(2)} %, rate now ${result.state.ratePerSecond.toFixed(2)}/s`,
      );
      expect(result.acceptedPerSecond).toBeGreaterThanOrEqual(receiverRate * 0.8);
      expect(result.acceptedPerSecond).toBeLessThanOrEqual(receiverRate * 1.2);
      expect(result.refusedShare).toBeLessThan(0.05);
    },
  );

  it('comes down from a learned rate far above what the receiver takes', () => {
    const start = restoreThrottleState(
      LIMITS,
      { ratePerSecond: 40, concurrency: 5, backoffUntilMs: 0, consecutiveCuts: 0, history: [] },
      0,
    );
    const result = simulate({
      receiverRate: 4,
      burst: 4,
      latencyMs: 50,
      durationMs: 120_000,
      settleMs: 60_000,
    });
    const fromAbove = simulate({
      receiverRate: 4,
      burst: 4,
      latencyMs: 50,
      durationMs: 120_000,
      settleMs: 60_000,
      start,
    });
    expect(fromAbove.acceptedPerSecond).toBeGreaterThanOrEqual(4 * 0.8);
    expect(fromAbove.refusedShare).toBeLessThan(0.05);
    expect(Math.abs(fromAbove.acceptedPerSecond - result.acceptedPerSecond)).toBeLessThan(0.8);
  });

  it('raises additively up to the ceiling while everything is accepted', () => {
    let state = initialThrottleState(LIMITS, 0);
    for (let i = 0; i < 100_000; i += 1) state = recordFeedback(state, LIMITS, 'accepted', i);
    expect(state.ratePerSecond).toBe(LIMITS.maxRatePerSecond);
    expect(state.concurrency).toBe(LIMITS.maxConnections);
  });

  it('cuts once per burst of pushback and backs off longer on each further cut', () => {
    let state = initialThrottleState(LIMITS, 0);
    state = recordFeedback(state, LIMITS, 'connection_failed', 1_000);
    expect(state.ratePerSecond).toBeCloseTo(2 * DEFAULT_TUNING.decreaseFactor);
    expect(state.backoffUntilMs).toBe(1_000 + DEFAULT_TUNING.backoffBaseMs);
    // Replies of sends started before the cut: counted, not cut again.
    state = recordFeedback(state, LIMITS, 'throttled', 1_500);
    expect(state.ratePerSecond).toBeCloseTo(1.6);
    expect(state.throttled).toBe(2);
    state = recordFeedback(state, LIMITS, 'throttled', 4_000);
    expect(state.backoffUntilMs).toBe(4_000 + 2 * DEFAULT_TUNING.backoffBaseMs);
    expect(takeToken(state, 4_100)).toMatchObject({ granted: false, waitMs: 900 });
    expect(state.history.map((entry) => entry.event)).toEqual(['cut', 'cut']);
    // Neutral replies (greylisting, full mailboxes) change nothing.
    expect(recordFeedback(state, LIMITS, 'neutral', 5_000)).toBe(state);
  });

  it('cuts a rate far above what gets through to what got through, and the connections to what it keeps busy', () => {
    // A site no profile knows, started at the bench's ceiling, that takes 2 msg/s.
    const wide: ThrottleLimits = {
      initialRatePerSecond: 20_000,
      maxRatePerSecond: 20_000,
      maxConnections: 20,
    };
    let state = initialThrottleState(wide, 0);
    // 2 accepted per second for 6 s (the window rolls over at 5 s).
    for (let atMs = 500; atMs <= 6_000; atMs += 500) {
      state = recordFeedback(state, wide, 'accepted', atMs);
    }
    state = recordFeedback(state, wide, 'throttled', 6_000);
    expect(state.ratePerSecond).toBeCloseTo(2, 1);
    // 2 msg/s of sends taking up to 3 s each keep 6 connections busy.
    expect(state.concurrency).toBe(6);
    // Accepted sends raise the rate again, but not the connections past what it keeps busy.
    for (let atMs = 8_000; atMs < 9_000; atMs += 100) {
      state = recordFeedback(state, wide, 'accepted', atMs);
    }
    expect(state.concurrency).toBeLessThanOrEqual(Math.ceil(state.ratePerSecond * 3));
  });

  it('cuts by the usual factor when the rate is near what was accepted or too little was', () => {
    let near = initialThrottleState(LIMITS, 0);
    for (let atMs = 100; atMs <= 2_000; atMs += 500) {
      near = recordFeedback(near, LIMITS, 'accepted', atMs);
    }
    const rateBefore = near.ratePerSecond;
    near = recordFeedback(near, LIMITS, 'throttled', 2_000);
    expect(near.ratePerSecond).toBeCloseTo(rateBefore * DEFAULT_TUNING.decreaseFactor);

    // Two accepted sends say too little: the usual cut, however far above the rate is.
    const wide = { ...LIMITS, initialRatePerSecond: 1_000, maxRatePerSecond: 1_000 };
    let sparse = initialThrottleState(wide, 0);
    sparse = recordFeedback(sparse, wide, 'accepted', 1_000);
    sparse = recordFeedback(sparse, wide, 'accepted', 2_000);
    const sparseBefore = sparse.ratePerSecond;
    sparse = recordFeedback(sparse, wide, 'throttled', 3_000);
    expect(sparse.ratePerSecond).toBeCloseTo(sparseBefore * DEFAULT_TUNING.decreaseFactor);
  });

  it('clamps a restored state to the current profile and remembers the restore', () => {
    const state = restoreThrottleState(
      LIMITS,
      { ratePerSecond: 500, concurrency: 0, backoffUntilMs: 7, consecutiveCuts: 2, history: [] },
      100,
    );
    expect(state).toMatchObject({ ratePerSecond: 50, concurrency: 1, backoffUntilMs: 7 });
    expect(state.history).toEqual([
      { atMs: 100, event: 'restore', ratePerSecond: 50, concurrency: 1 },
    ]);
  });
});
