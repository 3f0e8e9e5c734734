/** What one take from a limiter gave. */
export type TakeOutcome =
  /** A token was available and is spent. */
  | { ok: true }
  /** The bucket is empty; one token is back after `retryAfterMs`. */
  | { ok: false; retryAfterMs: number };

/** Token buckets keyed by caller (an API key id), refilled continuously. */
export interface RateLimiter {
  take(key: string): TakeOutcome;
}

export interface RateLimiterOptions {
  perSecond: number;
  burst: number;
  /** Milliseconds; injected so tests drive time. */
  now: () => number;
  /** Buckets kept at most; the least recently used is forgotten (it would be full anyway). */
  maxKeys?: number;
}

/**
 * A bucket per key holding up to `burst` tokens, refilled at `perSecond`. A key unseen for
 * burst/perSecond seconds has a full bucket again, so forgetting it changes nothing; the
 * key count is capped so a flood of distinct keys cannot grow memory without bound.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { perSecond, burst, now } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const at = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at };
      buckets.delete(key);
      bucket.tokens = Math.min(burst, bucket.tokens + ((at - bucket.at) / 1000) * perSecond);
      bucket.at = at;
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) {
        const oldest = buckets.keys().next();
        if (oldest.done !== true) buckets.delete(oldest.value);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / perSecond) * 1000) };
    },
  };
}
