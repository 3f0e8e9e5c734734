import type { BreakerTrip, SlicePause, WindowCounts } from './domain/breakers';

/** What the breaker sweep may do while it holds the sweep lock (one replica at a time). */
export interface BreakerSweepView {
  /**
   * The window's counts of every `sending` campaign with outcomes since `since`, one row
   * per (campaign, provider, pool, bucket), shards summed.
   */
  window(since: Date): Promise<WindowCounts[]>;
  /** The pauses of these campaigns in force, or resumed since `since`. */
  pauses(campaignIds: readonly string[], since: Date): Promise<SlicePause[]>;
  /**
   * Sends one `campaign.pause` command per trip through the outbox, in the sweep's
   * transaction: a sweep that fails sends none.
   */
  requestPauses(trips: readonly BreakerTrip[]): Promise<void>;
  /** Deletes buckets older than `before`; returns how many rows went. */
  prune(before: Date): Promise<number>;
}

/** Where the breakers read their window. */
export interface BreakerStore {
  /**
   * Runs `work` in one transaction holding the breaker sweep's lock, or returns undefined at
   * once when another replica holds it (that replica's sweep is as good as this one's).
   */
  withSweepLock<T>(work: (view: BreakerSweepView) => Promise<T>): Promise<T | undefined>;
}
