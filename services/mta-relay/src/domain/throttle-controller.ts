/**
 * The adaptive throttle of one (IP pool × site): a pure AIMD controller over a token bucket,
 * with time passed in. Like TCP congestion control and Postfix's per-destination concurrency
 * feedback, it probes upwards while the receiver accepts and backs off hard when it pushes
 * back: a throttling reply, a refused connection or a timeout cuts rate and concurrency
 * multiplicatively and pauses sending; each accepted message raises them a little, so the rate
 * grows linearly in time up to the profile's ceiling. A burst of throttling replies from sends
 * already in flight cuts once, not once per reply.
 */

/** The limits the controller works within (from the site's provider profile). */
export interface ThrottleLimits {
  initialRatePerSecond: number;
  maxRatePerSecond: number;
  maxConnections: number;
}

/** How hard the controller reacts; defaults in `DEFAULT_TUNING`. */
export interface ThrottleTuning {
  /** Factor applied to rate and concurrency on a cut (0.8: 20 % less). */
  decreaseFactor: number;
  /** Rate gained per second of accepted traffic, as a fraction of the initial rate. */
  increasePerSecondFraction: number;
  /**
   * Before the first pushback the rate grows by this fraction of itself per second of
   * accepted traffic (TCP's slow start): a site without history reaches its real ceiling in
   * a minute instead of crawling up from a cautious initial rate.
   */
  slowStartPerSecondFraction: number;
  /** After a cut, further pushback within this window comes from sends of the old rate. */
  cutHoldMs: number;
  /** Pause after the first cut of a streak; doubles with each further cut, up to the max. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Floor of the rate, so a site is always probed again. */
  minRatePerSecond: number;
  /** Token bucket depth, in seconds of the current rate (at least one message). */
  burstSeconds: number;
  /** History entries kept (cuts, and raises sampled at most once per `historySampleMs`). */
  historyLength: number;
  historySampleMs: number;
  /** Accepted sends are counted over windows this long, to measure what gets through. */
  measureWindowMs: number;
  /**
   * A throttling reply while the rate allowed is more than this many times what was
   * accepted lately cuts the rate to the accepted one at once: twenty cuts of 20 % would
   * take most of a minute, all of it spent sending into refusals.
   */
  overshootFactor: number;
  /**
   * The longest a receiver is assumed to take per message: after a cut, no more
   * connections than the rate keeps busy for this long (a site throttled to 2 msg/s needs a
   * handful of connections, not twenty).
   */
  sendSecondsCeiling: number;
}

export const DEFAULT_TUNING: ThrottleTuning = {
  decreaseFactor: 0.8,
  increasePerSecondFraction: 0.05,
  slowStartPerSecondFraction: 0.1,
  cutHoldMs: 2_000,
  backoffBaseMs: 500,
  backoffMaxMs: 60_000,
  minRatePerSecond: 0.1,
  burstSeconds: 0.2,
  historyLength: 50,
  historySampleMs: 10_000,
  measureWindowMs: 5_000,
  overshootFactor: 2,
  sendSecondsCeiling: 3,
};

/** What one finished send says about the site. */
export type ThrottleFeedback =
  /** 2xx: the receiver took the message. */
  | 'accepted'
  /** 421, or a profile's throttling text (4.7.28, TSS04, 4.7.650 …). */
  | 'throttled'
  /** No reply at all: refused connection, timeout, dropped connection. */
  | 'connection_failed'
  /** Any other reply (greylisting, full mailbox, unknown user): says nothing about rate. */
  | 'neutral';

/** One remembered change of the controller. */
export interface ThrottleHistoryEntry {
  atMs: number;
  event: 'cut' | 'raise' | 'restore';
  cause?: ThrottleFeedback;
  ratePerSecond: number;
  concurrency: number;
}

/** The controller's whole state; persisted (minus the bucket) and restored at start. */
export interface ThrottleState {
  ratePerSecond: number;
  /** Sends allowed in flight; fractional so additive steps of 1/concurrency add up. */
  concurrency: number;
  /** No send starts before this instant. */
  backoffUntilMs: number;
  /** True until the first cut: the rate grows exponentially, not linearly. */
  slowStart: boolean;
  /** Cuts since the last accepted message; grows the backoff. */
  consecutiveCuts: number;
  lastCutAtMs: number;
  tokens: number;
  tokensAtMs: number;
  /** The current measuring window: its start and the sends accepted in it. */
  windowStartMs: number;
  windowAccepted: number;
  /** The window before it (its start is the current one's minus its length). */
  previousStartMs: number;
  previousAccepted: number;
  /** Counters since the state was created, for reports and tests. */
  accepted: number;
  throttled: number;
  history: readonly ThrottleHistoryEntry[];
}

/**
 * A fresh state at the profile's initial rate and all its connections: the profile's
 * connection count is already the polite figure, and pushback cuts it.
 */
export function initialThrottleState(limits: ThrottleLimits, nowMs: number): ThrottleState {
  return {
    ratePerSecond: limits.initialRatePerSecond,
    concurrency: Math.max(1, limits.maxConnections),
    backoffUntilMs: 0,
    slowStart: true,
    consecutiveCuts: 0,
    lastCutAtMs: -Infinity,
    tokens: 1,
    tokensAtMs: nowMs,
    windowStartMs: nowMs,
    windowAccepted: 0,
    previousStartMs: nowMs,
    previousAccepted: 0,
    accepted: 0,
    throttled: 0,
    history: [],
  };
}

/** What was learned before (another replica, an earlier run), as persisted. */
export interface LearnedThrottle {
  ratePerSecond: number;
  concurrency: number;
  backoffUntilMs: number;
  consecutiveCuts: number;
  history: readonly ThrottleHistoryEntry[];
}

/** Starts from what was learned, clamped to today's profile (its ceiling may have changed). */
export function restoreThrottleState(
  limits: ThrottleLimits,
  learned: LearnedThrottle,
  nowMs: number,
  tuning: ThrottleTuning = DEFAULT_TUNING,
): ThrottleState {
  const fresh = initialThrottleState(limits, nowMs);
  const ratePerSecond = clamp(
    learned.ratePerSecond,
    tuning.minRatePerSecond,
    limits.maxRatePerSecond,
  );
  const concurrency = clamp(learned.concurrency, 1, limits.maxConnections);
  return {
    ...fresh,
    ratePerSecond,
    concurrency,
    backoffUntilMs: learned.backoffUntilMs,
    // A learned rate was found by pushback already: probe from it linearly.
    slowStart: false,
    consecutiveCuts: learned.consecutiveCuts,
    history: remember(
      learned.history,
      { atMs: nowMs, event: 'restore', ratePerSecond, concurrency },
      tuning,
    ),
  };
}

/** The outcome of asking for a send slot's token. */
export type TokenGrant =
  | { granted: true; state: ThrottleState }
  /** Not now: ask again in `waitMs`. */
  | { granted: false; state: ThrottleState; waitMs: number };

/** Takes one message's token if the bucket has one and no backoff is running. */
export function takeToken(
  state: ThrottleState,
  nowMs: number,
  tuning: ThrottleTuning = DEFAULT_TUNING,
): TokenGrant {
  const refilled = refill(state, nowMs, tuning);
  if (nowMs < refilled.backoffUntilMs) {
    return { granted: false, state: refilled, waitMs: refilled.backoffUntilMs - nowMs };
  }
  if (refilled.tokens >= 1)
    return { granted: true, state: { ...refilled, tokens: refilled.tokens - 1 } };
  const waitMs = Math.ceil(((1 - refilled.tokens) / refilled.ratePerSecond) * 1000);
  return { granted: false, state: refilled, waitMs: Math.max(1, waitMs) };
}

/** How long until `queued` more messages could start, counting the backoff and the bucket. */
export function projectedWaitMs(
  state: ThrottleState,
  queued: number,
  nowMs: number,
  tuning: ThrottleTuning = DEFAULT_TUNING,
): number {
  const refilled = refill(state, nowMs, tuning);
  const backoff = Math.max(0, refilled.backoffUntilMs - nowMs);
  const missing = Math.max(0, queued - refilled.tokens);
  return backoff + Math.ceil((missing / refilled.ratePerSecond) * 1000);
}

/** Applies one send's feedback. */
export function recordFeedback(
  state: ThrottleState,
  limits: ThrottleLimits,
  feedback: ThrottleFeedback,
  nowMs: number,
  tuning: ThrottleTuning = DEFAULT_TUNING,
): ThrottleState {
  switch (feedback) {
    case 'accepted':
      return raise(state, limits, nowMs, tuning);
    case 'throttled':
    case 'connection_failed':
      return cut(state, feedback, nowMs, tuning);
    case 'neutral':
      return state;
    default:
      return feedback satisfies never;
  }
}

function raise(
  state: ThrottleState,
  limits: ThrottleLimits,
  nowMs: number,
  tuning: ThrottleTuning,
): ThrottleState {
  // +k/rate per accepted message is +k per second of traffic at that rate: additive in time,
  // and only while there is traffic to prove the receiver keeps up.
  const k = state.slowStart
    ? tuning.slowStartPerSecondFraction * state.ratePerSecond
    : tuning.increasePerSecondFraction * limits.initialRatePerSecond;
  const ratePerSecond = Math.min(
    limits.maxRatePerSecond,
    state.ratePerSecond + k / state.ratePerSecond,
  );
  // Postfix's positive feedback: one more connection per window of accepted messages, up to
  // what the rate can keep busy.
  const busy = connectionsFor(ratePerSecond, tuning);
  const concurrency =
    state.concurrency >= busy
      ? state.concurrency
      : Math.min(limits.maxConnections, busy, state.concurrency + 1 / state.concurrency);
  const window = countAccepted(state, nowMs, tuning);
  const last = state.history[state.history.length - 1];
  const sample = last === undefined || nowMs - last.atMs >= tuning.historySampleMs;
  return {
    ...state,
    ...window,
    ratePerSecond,
    concurrency,
    consecutiveCuts: 0,
    accepted: state.accepted + 1,
    history: sample
      ? remember(state.history, { atMs: nowMs, event: 'raise', ratePerSecond, concurrency }, tuning)
      : state.history,
  };
}

function cut(
  state: ThrottleState,
  cause: ThrottleFeedback,
  nowMs: number,
  tuning: ThrottleTuning,
): ThrottleState {
  const throttled = state.throttled + 1;
  if (nowMs - state.lastCutAtMs < tuning.cutHoldMs) return { ...state, throttled };
  const measured = cause === 'throttled' ? measuredRate(state, nowMs) : undefined;
  const overshot =
    measured !== undefined && state.ratePerSecond > measured * tuning.overshootFactor;
  const ratePerSecond = Math.max(
    tuning.minRatePerSecond,
    overshot ? measured : state.ratePerSecond * tuning.decreaseFactor,
  );
  const concurrency = Math.max(
    1,
    Math.min(state.concurrency * tuning.decreaseFactor, connectionsFor(ratePerSecond, tuning)),
  );
  const consecutiveCuts = state.consecutiveCuts + 1;
  const backoffMs = Math.min(
    tuning.backoffMaxMs,
    tuning.backoffBaseMs * 2 ** (consecutiveCuts - 1),
  );
  return {
    ...state,
    ratePerSecond,
    concurrency,
    slowStart: false,
    consecutiveCuts,
    backoffUntilMs: nowMs + backoffMs,
    lastCutAtMs: nowMs,
    // The burst saved while under the limit is what overran it: start from empty.
    tokens: 0,
    tokensAtMs: nowMs,
    throttled,
    history: remember(
      state.history,
      { atMs: nowMs, event: 'cut', cause, ratePerSecond, concurrency },
      tuning,
    ),
  };
}

/** The connections `ratePerSecond` keeps busy when each send takes the longest assumed. */
function connectionsFor(ratePerSecond: number, tuning: ThrottleTuning): number {
  return Math.max(1, Math.ceil(ratePerSecond * tuning.sendSecondsCeiling));
}

/** One more accepted send in the measuring window, which rolls over when it is whole. */
function countAccepted(
  state: ThrottleState,
  nowMs: number,
  tuning: ThrottleTuning,
): Pick<
  ThrottleState,
  'windowStartMs' | 'windowAccepted' | 'previousStartMs' | 'previousAccepted'
> {
  if (nowMs - state.windowStartMs < tuning.measureWindowMs) {
    return {
      windowStartMs: state.windowStartMs,
      windowAccepted: state.windowAccepted + 1,
      previousStartMs: state.previousStartMs,
      previousAccepted: state.previousAccepted,
    };
  }
  return {
    windowStartMs: nowMs,
    windowAccepted: 1,
    previousStartMs: state.windowStartMs,
    previousAccepted: state.windowAccepted,
  };
}

// Fewer accepted sends than this say too little about a rate to cut to it.
const MIN_MEASURED_SENDS = 3;

/**
 * What was accepted per second over the current and the previous window, or undefined when
 * too few sends were accepted in them to tell.
 */
function measuredRate(state: ThrottleState, nowMs: number): number | undefined {
  const accepted = state.previousAccepted + state.windowAccepted;
  const elapsedMs = nowMs - state.previousStartMs;
  if (accepted < MIN_MEASURED_SENDS || elapsedMs <= 0) return undefined;
  return (accepted * 1000) / elapsedMs;
}

function refill(state: ThrottleState, nowMs: number, tuning: ThrottleTuning): ThrottleState {
  if (nowMs <= state.tokensAtMs) return state;
  const depth = Math.max(1, state.ratePerSecond * tuning.burstSeconds);
  // Time spent in a backoff earns no tokens.
  const from = Math.max(state.tokensAtMs, Math.min(nowMs, state.backoffUntilMs));
  const tokens = Math.min(depth, state.tokens + ((nowMs - from) / 1000) * state.ratePerSecond);
  return { ...state, tokens, tokensAtMs: nowMs };
}

function remember(
  history: readonly ThrottleHistoryEntry[],
  entry: ThrottleHistoryEntry,
  tuning: ThrottleTuning,
): readonly ThrottleHistoryEntry[] {
  const next = [...history, entry];
  return next.length > tuning.historyLength ? next.slice(next.length - tuning.historyLength) : next;
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}
