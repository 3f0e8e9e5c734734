import {
  chooseSource,
  utcDay,
  warmupCap,
  type IpSource,
  type RoundRobinState,
} from '../domain/ip-sources';
import type { SourceSelector, WarmupCount } from '../ports';

/** The pools' sources and what the warm-up counts started from. */
export interface SourceSelectorOptions {
  pools: ReadonlyMap<string, readonly IpSource[]>;
  /** Sends per source address on the current UTC day, as the store had them at start. */
  sentToday?: ReadonlyMap<string, number>;
  now?: () => number;
}

interface PoolState {
  sources: readonly IpSource[];
  rr: RoundRobinState;
}

/**
 * Picks each send's egress source and counts it against the source's warm-up cap for the UTC
 * day. Counts are per address, not per pool: an address in two pools warms up once. A send is
 * counted when its source is picked (an attempt the receiver sees, whatever it answers).
 */
export function createSourceSelector(options: SourceSelectorOptions): SourceSelector {
  const now = options.now ?? Date.now;
  const pools = new Map<string, PoolState>();
  for (const [pool, sources] of options.pools) {
    if (sources.length > 0) pools.set(pool, { sources, rr: [] });
  }
  let day = utcDay(now());
  let sent = new Map<string, number>(options.sentToday ?? []);
  // Sends not yet written, by (day, address): a flush adds them to the stored totals.
  const unsaved = new Map<string, WarmupCount>();

  const rollOver = (nowMs: number): void => {
    const today = utcDay(nowMs);
    if (today === day) return;
    day = today;
    sent = new Map();
  };
  const countsOf = (sources: readonly IpSource[]): number[] =>
    sources.map((source) => sent.get(source.address) ?? 0);

  return {
    cappedUntil(pool) {
      const state = pools.get(pool);
      if (state === undefined) return undefined;
      const nowMs = now();
      rollOver(nowMs);
      const choice = chooseSource(state.sources, state.rr, countsOf(state.sources), nowMs);
      return choice.kind === 'capped' ? choice.retryAtMs : undefined;
    },
    pick(pool) {
      const state = pools.get(pool);
      if (state === undefined) return { kind: 'source', source: undefined };
      const nowMs = now();
      rollOver(nowMs);
      const choice = chooseSource(state.sources, state.rr, countsOf(state.sources), nowMs);
      if (choice.kind === 'capped') return { kind: 'capped', retryAtMs: choice.retryAtMs };
      state.rr = choice.state;
      const source = state.sources[choice.index] as IpSource;
      sent.set(source.address, (sent.get(source.address) ?? 0) + 1);
      const key = `${day}\u0000${source.address}`;
      const pending = unsaved.get(key);
      if (pending === undefined) unsaved.set(key, { source: source.address, day, sent: 1 });
      else pending.sent += 1;
      return { kind: 'source', source: { address: source.address, ehlo: source.ehlo } };
    },
    takeUnsaved() {
      const out = [...unsaved.values()];
      unsaved.clear();
      return out;
    },
    restoreUnsaved(counts) {
      for (const count of counts) {
        const key = `${count.day}\u0000${count.source}`;
        const pending = unsaved.get(key);
        if (pending === undefined) unsaved.set(key, { ...count });
        else pending.sent += count.sent;
      }
    },
    snapshot() {
      const nowMs = now();
      rollOver(nowMs);
      const out = [];
      for (const [pool, state] of pools) {
        for (const source of state.sources) {
          const cap = warmupCap(source.warmup, nowMs);
          out.push({
            pool,
            address: source.address,
            ehlo: source.ehlo,
            sentToday: sent.get(source.address) ?? 0,
            capToday: Number.isFinite(cap) ? cap : null,
          });
        }
      }
      return out;
    },
  };
}
