/**
 * Where a consumer remembers the envelope ids it has processed, so an at-least-once
 * redelivery runs its handler only once. Keyed by consumer: two services consuming the
 * same event each process it.
 */
export interface DedupeStore {
  /** Whether `consumer` already processed `envelopeId` (an in-memory store may answer at once). */
  has(consumer: string, envelopeId: string): boolean | Promise<boolean>;
  /** Records that `consumer` processed `envelopeId`. */
  add(consumer: string, envelopeId: string): void | Promise<void>;
}

/** Default capacity: ample for redeliveries, which arrive within minutes of the original. */
export const DEFAULT_DEDUPE_ENTRIES = 100_000;

/**
 * Bounded memory of recent ids, `maxEntries` to `2 × maxEntries` per consumer. It only
 * guards one process against redeliveries it sees itself; services that must stay
 * idempotent across replicas or restarts pass a store-backed DedupeStore (or make the
 * handler's write idempotent).
 *
 * Two generations instead of an LRU: redeliveries arrive within minutes of the original,
 * so "recently added" is what matters, and a Set add per message (with a whole generation
 * dropped at once) is cheaper on the hot path than an LRU's delete-and-reinsert per lookup.
 */
export function createMemoryDedupeStore(maxEntries = DEFAULT_DEDUPE_ENTRIES): DedupeStore {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }
  interface Generations {
    current: Set<string>;
    previous: Set<string>;
  }
  // One pair per consumer avoids building a composite key string for every message.
  const byConsumer = new Map<string, Generations>();
  return {
    has(consumer, envelopeId) {
      const seen = byConsumer.get(consumer);
      return seen !== undefined && (seen.current.has(envelopeId) || seen.previous.has(envelopeId));
    },
    add(consumer, envelopeId) {
      let seen = byConsumer.get(consumer);
      if (seen === undefined) {
        seen = { current: new Set(), previous: new Set() };
        byConsumer.set(consumer, seen);
      }
      if (seen.current.size >= maxEntries) {
        seen.previous = seen.current;
        seen.current = new Set();
      }
      seen.current.add(envelopeId);
    },
  };
}
