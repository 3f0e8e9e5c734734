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
 * A bounded LRU in memory, `maxEntries` per consumer. It only guards one process against
 * redeliveries it sees itself; services that must stay idempotent across replicas or
 * restarts pass a store-backed DedupeStore (or make the handler's write idempotent).
 */
export function createMemoryDedupeStore(maxEntries = DEFAULT_DEDUPE_ENTRIES): DedupeStore {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }
  // A Map iterates in insertion order: re-inserting on access keeps the least recently
  // used id first, where eviction finds it in O(1). One map per consumer avoids building
  // a composite key string for every message.
  const byConsumer = new Map<string, Map<string, true>>();
  const seenBy = (consumer: string): Map<string, true> => {
    let seen = byConsumer.get(consumer);
    if (seen === undefined) {
      seen = new Map();
      byConsumer.set(consumer, seen);
    }
    return seen;
  };
  return {
    has(consumer, envelopeId) {
      const seen = byConsumer.get(consumer);
      if (seen === undefined || !seen.delete(envelopeId)) return false;
      seen.set(envelopeId, true);
      return true;
    },
    add(consumer, envelopeId) {
      const seen = seenBy(consumer);
      seen.delete(envelopeId);
      seen.set(envelopeId, true);
      if (seen.size > maxEntries) {
        const oldest = seen.keys().next();
        if (oldest.done !== true) seen.delete(oldest.value);
      }
    },
  };
}
