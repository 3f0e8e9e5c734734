/**
 * Egress sources of an IP pool: which local address (and EHLO name) the next connection uses,
 * by smooth weighted round robin, skipping sources that reached their warm-up cap for the day.
 * Pure: counts, weights and the time are passed in.
 */

const DAY_MS = 86_400_000;

/** How a new source's daily volume ramps up, from its first day (`startMs`, a UTC midnight). */
export type WarmupPlan =
  /** Day 1 may send `dailyCaps[0]`, day 2 `dailyCaps[1]`…; after the list the source is warm. */
  | { startMs: number; dailyCaps: readonly number[] }
  /**
   * Day 1 sends `firstDayCap`, each next day `growthFactor` times more; once a day's cap would
   * reach `warmCap` the source is warm (no cap).
   */
  | { startMs: number; firstDayCap: number; growthFactor: number; warmCap: number };

/** One source address of a pool. */
export interface IpSource {
  address: string;
  /** The name said in EHLO on connections from this address (its PTR name). */
  ehlo: string;
  weight: number;
  warmup?: WarmupPlan | undefined;
}

/** The UTC day (days since the epoch) of an instant: warm-up counts restart at 00:00 UTC. */
export function utcDay(nowMs: number): number {
  return Math.floor(nowMs / DAY_MS);
}

/** When the UTC day after the one of `nowMs` starts. */
export function nextUtcDayMs(nowMs: number): number {
  return (utcDay(nowMs) + 1) * DAY_MS;
}

/**
 * The messages a source may send on the UTC day of `nowMs`; `Infinity` without a plan or once
 * it is warm. Days before the plan's start count as its first day: a source is never sent from
 * faster than planned because it was configured early.
 */
export function warmupCap(plan: WarmupPlan | undefined, nowMs: number): number {
  if (plan === undefined) return Infinity;
  const day = Math.max(0, utcDay(nowMs) - utcDay(plan.startMs));
  if ('dailyCaps' in plan) return plan.dailyCaps[day] ?? Infinity;
  const cap = plan.firstDayCap * plan.growthFactor ** day;
  return cap >= plan.warmCap ? Infinity : Math.floor(cap);
}

/** The running weights of one pool's smooth weighted round robin, one per source. */
export type RoundRobinState = readonly number[];

/**
 * Smooth weighted round robin (the nginx upstream algorithm): every eligible source gains its
 * weight, the one with the most is picked and loses the total. Weights 5:1:1 give
 * a a b a c a a, never a burst of one source, and exactly the weights' shares over each cycle.
 * Ineligible sources (at their cap) neither gain nor get picked. `index` is -1 when no source
 * is eligible; ties go to the first source, so the sequence is deterministic.
 */
export function pickWeighted(
  state: RoundRobinState,
  weights: readonly number[],
  eligible: readonly boolean[],
): { index: number; state: RoundRobinState } {
  const next = weights.map((_, i) => state[i] ?? 0);
  let total = 0;
  let best = -1;
  for (let i = 0; i < weights.length; i += 1) {
    if (eligible[i] !== true) continue;
    const weight = weights[i] ?? 0;
    next[i] = (next[i] ?? 0) + weight;
    total += weight;
    if (best < 0 || (next[i] ?? 0) > (next[best] ?? 0)) best = i;
  }
  if (best < 0) return { index: -1, state };
  next[best] = (next[best] ?? 0) - total;
  return { index: best, state: next };
}

/** What the next send of a pool does. */
export type SourceChoice =
  | { kind: 'source'; index: number; state: RoundRobinState }
  /** Every source reached its cap today: wait for the next UTC day, never bounce. */
  | { kind: 'capped'; retryAtMs: number };

/** Picks the source of the next send from `sources`, given each one's count today. */
export function chooseSource(
  sources: readonly IpSource[],
  state: RoundRobinState,
  sentToday: readonly number[],
  nowMs: number,
): SourceChoice {
  // Weight 0 takes a source out of rotation (to drain it) without removing its counts.
  const eligible = sources.map(
    (source, i) => source.weight > 0 && (sentToday[i] ?? 0) < warmupCap(source.warmup, nowMs),
  );
  const picked = pickWeighted(
    state,
    sources.map((source) => source.weight),
    eligible,
  );
  if (picked.index < 0) return { kind: 'capped', retryAtMs: nextUtcDayMs(nowMs) };
  return { kind: 'source', index: picked.index, state: picked.state };
}
