import type { Site } from '../domain/sites';
import {
  DEFAULT_TUNING,
  initialThrottleState,
  projectedWaitMs,
  recordFeedback,
  restoreThrottleState,
  takeToken,
  type LearnedThrottle,
  type ThrottleFeedback,
  type ThrottleLimits,
  type ThrottleState,
  type ThrottleTuning,
} from '../domain/throttle-controller';
import type { SendLane, SendScheduler, SendSlot, SlotRequest, ThrottleSnapshot } from '../ports';

/** How the scheduler bounds what it holds. */
export interface SendSchedulerOptions {
  /** Messages of one (pool × site) that may wait in memory for their turn. */
  readyQueueMax: number;
  /** A message that would wait longer than this for its site is postponed instead. */
  maxReadyWaitMs: number;
  /** What earlier runs or other replicas learned, by `throttleKey`. */
  learned?: ReadonlyMap<string, LearnedThrottle>;
  tuning?: ThrottleTuning;
  now?: () => number;
  random?: () => number;
}

interface Entry {
  pool: string;
  site: string;
  limits: ThrottleLimits;
  state: ThrottleState;
  inFlight: number;
  /** Waiting by lane: a free slot goes to the transactional lane first. */
  waiters: Record<SendLane, ((request: SlotRequest) => void)[]>;
  timer: NodeJS.Timeout | undefined;
  /** Bumped on every change of the state; `savedVersion` is the last one written. */
  version: number;
  savedVersion: number;
  /** Messages of this site postponed and not yet back for a slot. */
  circulating: number;
  /** Moving average of a send's duration: how fast a connection-bound queue drains. */
  sendMs: number;
}

const MAX_TRACKED_POSTPONEMENTS = 100_000;
/** At most 2^6 times the site's projected wait. */
const MAX_POSTPONEMENT_DOUBLINGS = 6;

/** The key of one controller. */
export function throttleKey(pool: string, site: string): string {
  return `${pool}\u0000${site}`;
}

/**
 * Per-(pool × site) ready queues in front of the SMTP pools, paced by each site's controller
 * (KumoMTA's ready queues, with Postfix-style feedback). A message waits here only when its
 * turn is near (`maxReadyWaitMs`) and its site's queue is short (`readyQueueMax`); otherwise
 * `acquire` answers `postponed` and the handler hands the message back to the bus with a
 * delay, so a throttled or slow site holds a handful of consumer slots, never the prefetch.
 */
export function createSendScheduler(options: SendSchedulerOptions): SendScheduler {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const tuning = options.tuning ?? DEFAULT_TUNING;
  const entries = new Map<string, Entry>();
  let postponed = 0;
  let closed = false;
  // Postponements per message (bounded, oldest forgotten first): a message postponed again
  // waits twice as long, so a backlog far larger than its site's rate spreads out over time
  // instead of circling through the bus every second (like the exponential backoff of a
  // deferred queue; the count is only a hint, lost on restart or on another replica).
  const postponements = new Map<string, { count: number; entry: Entry }>();
  const forget = (messageKey: string): void => {
    const known = postponements.get(messageKey);
    if (known === undefined) return;
    postponements.delete(messageKey);
    known.entry.circulating -= 1;
  };
  // Never beyond half the time the site needs for every message it has postponed: those come
  // back about twice as fast as the site takes them, so it is never starved by its own
  // backoff even when returns bunch up.
  const postponementMs = (messageKey: string, entry: Entry, waitMs: number): number => {
    const count = postponements.get(messageKey)?.count ?? 0;
    forget(messageKey);
    if (postponements.size >= MAX_TRACKED_POSTPONEMENTS) {
      const oldest = postponements.keys().next();
      if (oldest.done !== true) forget(oldest.value);
    }
    postponements.set(messageKey, { count: count + 1, entry });
    entry.circulating += 1;
    const backlogMs = (entry.circulating / drainPerSecond(entry)) * 500;
    const doubled = waitMs * 2 ** Math.min(count, MAX_POSTPONEMENT_DOUBLINGS);
    // Jittered here, once: postponed messages of one burst must not all come back together.
    return Math.max(waitMs, Math.min(doubled, backlogMs)) * (0.5 + random());
  };

  const entryFor = (pool: string, site: Site): Entry => {
    const key = throttleKey(pool, site.name);
    let entry = entries.get(key);
    if (entry === undefined) {
      const limits: ThrottleLimits = {
        initialRatePerSecond: site.profile.initialRatePerSecond,
        maxRatePerSecond: site.profile.maxRatePerSecond,
        maxConnections: site.profile.maxConnections,
      };
      const learned = options.learned?.get(key);
      entry = {
        pool,
        site: site.name,
        limits,
        state:
          learned === undefined
            ? initialThrottleState(limits, now())
            : restoreThrottleState(limits, learned, now(), tuning),
        inFlight: 0,
        waiters: { transactional: [], bulk: [] },
        timer: undefined,
        version: learned === undefined ? 0 : 1,
        savedVersion: 0,
        circulating: 0,
        sendMs: 0,
      };
      entries.set(key, entry);
    }
    return entry;
  };

  // Messages per second the site really takes now: its rate, or fewer when its connections
  // are the bottleneck (each busy for about one average send).
  const drainPerSecond = (entry: Entry): number => {
    const connections = Math.max(1, Math.floor(entry.state.concurrency));
    const byConnections = entry.sendMs > 0 ? (connections * 1000) / entry.sendMs : Infinity;
    return Math.min(entry.state.ratePerSecond, byConnections);
  };

  // When one more message would get its turn: after the bucket allows it and after the
  // messages waiting ahead of it have drained.
  const expectedWaitMs = (entry: Entry, queued: number): number =>
    Math.max(
      projectedWaitMs(entry.state, queued, now(), tuning),
      (queued / drainPerSecond(entry)) * 1000,
    );

  const tryStart = (entry: Entry): boolean => {
    if (entry.inFlight >= Math.floor(entry.state.concurrency)) return false;
    const grant = takeToken(entry.state, now(), tuning);
    entry.state = grant.state;
    if (!grant.granted) {
      schedulePump(entry, grant.waitMs);
      return false;
    }
    entry.inFlight += 1;
    return true;
  };

  const waiting = (entry: Entry): number =>
    entry.waiters.transactional.length + entry.waiters.bulk.length;

  const schedulePump = (entry: Entry, waitMs: number): void => {
    if (entry.timer !== undefined || waiting(entry) === 0 || closed) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      pump(entry);
    }, waitMs);
  };

  const pump = (entry: Entry): void => {
    while (waiting(entry) > 0 && tryStart(entry)) {
      const lane = entry.waiters.transactional.length > 0 ? 'transactional' : 'bulk';
      entry.waiters[lane].shift()?.(slotOf(entry));
    }
  };

  const granted = (messageKey: string, entry: Entry): SendSlot => {
    forget(messageKey);
    return slotOf(entry);
  };

  const slotOf = (entry: Entry): SendSlot => {
    let released = false;
    const startedMs = now();
    return {
      kind: 'granted',
      release(feedback: ThrottleFeedback) {
        if (released) return;
        released = true;
        entry.inFlight -= 1;
        const tookMs = now() - startedMs;
        entry.sendMs = entry.sendMs === 0 ? tookMs : entry.sendMs * 0.9 + tookMs * 0.1;
        const next = recordFeedback(entry.state, entry.limits, feedback, now(), tuning);
        if (next !== entry.state) entry.version += 1;
        entry.state = next;
        pump(entry);
      },
    };
  };

  return {
    async acquire(pool, site, messageKey, lane = 'bulk') {
      const entry = entryFor(pool, site);
      if (closed) return { kind: 'postponed', retryAfterMs: 0 };
      // Transactional mail only queues behind transactional mail: bulk waiting for the same
      // site neither delays it nor fills the ready queue it is counted against.
      const ahead = lane === 'transactional' ? entry.waiters.transactional.length : waiting(entry);
      if (ahead === 0 && tryStart(entry)) return granted(messageKey, entry);
      // Postponed when its turn is further than `maxReadyWait` away, counting both the
      // site's rate and its connections' pace (a slow server with an untouched rate drains
      // a few messages per second however high its rate), or when the ready queue is full.
      const waitMs = expectedWaitMs(entry, ahead + 1);
      if (entry.waiters[lane].length >= options.readyQueueMax || waitMs > options.maxReadyWaitMs) {
        postponed += 1;
        const retryAfterMs = postponementMs(messageKey, entry, waitMs);
        return { kind: 'postponed', retryAfterMs };
      }
      const slot = new Promise<SlotRequest>((resolve) => entry.waiters[lane].push(resolve));
      pump(entry);
      forget(messageKey);
      return slot;
    },
    waitMs(pool, site) {
      const entry = entries.get(throttleKey(pool, site.name));
      return entry === undefined ? 0 : expectedWaitMs(entry, waiting(entry) + 1);
    },
    snapshot(onlyChanged) {
      const out: ThrottleSnapshot[] = [];
      for (const entry of entries.values()) {
        if (onlyChanged && entry.version === entry.savedVersion) continue;
        out.push({
          version: entry.version,
          pool: entry.pool,
          site: entry.site,
          ratePerSecond: entry.state.ratePerSecond,
          concurrency: entry.state.concurrency,
          backoffUntilMs: entry.state.backoffUntilMs,
          consecutiveCuts: entry.state.consecutiveCuts,
          accepted: entry.state.accepted,
          throttled: entry.state.throttled,
          inFlight: entry.inFlight,
          waiting: waiting(entry),
          history: entry.state.history,
        });
      }
      return out;
    },
    markSaved(snapshots) {
      for (const snapshot of snapshots) {
        const entry = entries.get(throttleKey(snapshot.pool, snapshot.site));
        if (entry !== undefined)
          entry.savedVersion = Math.max(entry.savedVersion, snapshot.version);
      }
    },
    stats: () => ({ postponed, sites: entries.size }),
    close() {
      closed = true;
      for (const entry of entries.values()) {
        if (entry.timer !== undefined) clearTimeout(entry.timer);
        entry.timer = undefined;
        // A stopping relay hands waiting messages back to the bus rather than rush them out.
        for (const resolve of [
          ...entry.waiters.transactional.splice(0),
          ...entry.waiters.bulk.splice(0),
        ])
          resolve({ kind: 'postponed', retryAfterMs: 0 });
      }
    },
  };
}
