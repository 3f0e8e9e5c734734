/**
 * Where a consumer remembers the envelope ids it has processed, so an at-least-once
 * redelivery runs its handler only once. Keyed by consumer: two services consuming the
 * same event each process it.
 */
export interface DedupeStore {
  /** Whether `consumer` already processed `envelopeId`. */
  has(consumer: string, envelopeId: string): Promise<boolean>;
  /** Records that `consumer` processed `envelopeId`. */
  add(consumer: string, envelopeId: string): Promise<void>;
}

/** Default capacity: ample for redeliveries, which arrive within minutes of the original. */
export const DEFAULT_DEDUPE_ENTRIES = 100_000;

/**
 * A bounded LRU in memory. It only guards one process against redeliveries it sees
 * itself; services that must stay idempotent across replicas or restarts pass a
 * store-backed DedupeStore (or make the handler's write idempotent).
 */
export function createMemoryDedupeStore(maxEntries = DEFAULT_DEDUPE_ENTRIES): DedupeStore {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }
  // A Map iterates in insertion order: re-inserting on access keeps the least recently
  // used entry first, where eviction finds it in O(1).
  const seen = new Map<string, true>();
  const keyOf = (consumer: string, envelopeId: string) => `${consumer}\u0000${envelopeId}`;
  return {
    async has(consumer, envelopeId) {
      const key = keyOf(consumer, envelopeId);
      if (!seen.delete(key)) return false;
      seen.set(key, true);
      return true;
    },
    async add(consumer, envelopeId) {
      const key = keyOf(consumer, envelopeId);
      seen.delete(key);
      seen.set(key, true);
      if (seen.size > maxEntries) {
        const oldest = seen.keys().next();
        if (oldest.done !== true) seen.delete(oldest.value);
      }
    },
  };
}
