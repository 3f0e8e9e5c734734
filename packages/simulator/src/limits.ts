import type { Clock } from './random';

// Both tables are keyed by client-supplied values; capping them keeps a long demo or a
// hostile client from growing memory without bound. Map iteration order is insertion
// order, so the first key is the oldest.
function evictOldest<K, V>(map: Map<K, V>, maxEntries: number): void {
  while (map.size > maxEntries) {
    const oldest = map.keys().next();
    if (oldest.done === true) return;
    map.delete(oldest.value);
  }
}

/** Token buckets per key (client IP): `ratePerSecond` refill, `burst` capacity. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const nowMs = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, atMs: nowMs };
    const refilled = ((nowMs - bucket.atMs) / 1000) * this.ratePerSecond;
    bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, refilled));
    bucket.atMs = nowMs;
    const granted = bucket.tokens >= 1;
    if (granted) bucket.tokens -= 1;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    evictOldest(this.buckets, this.maxKeys);
    return granted;
  }
}

/**
 * Greylisting as MTAs do it: the first attempt of a triple is deferred and remembered;
 * a retry at least `delayMs` later passes (and keeps passing while the entry lives).
 */
export class Greylist {
  private readonly firstSeenMs = new Map<string, number>();

  constructor(
    private readonly delayMs: number,
    private readonly clock: Clock,
    private readonly maxEntries = 100_000,
  ) {}

  /** True when the triple may pass now. */
  admit(clientIp: string, sender: string, recipient: string): boolean {
    const key = `${clientIp}\0${sender.toLowerCase()}\0${recipient.toLowerCase()}`;
    const nowMs = this.clock.now();
    const first = this.firstSeenMs.get(key);
    if (first === undefined) {
      this.firstSeenMs.set(key, nowMs);
      evictOldest(this.firstSeenMs, this.maxEntries);
      return false;
    }
    return nowMs - first >= this.delayMs;
  }
}
