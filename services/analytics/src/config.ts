import { duration, kernelConfigSchema, withModeCheck } from '@relais/config';
import { z } from 'zod';

/**
 * The service's own settings, for a process that hosts several services and nests them
 * under a key of its own (`relais up`: `ANALYTICS__PREFETCH`).
 */
export const analyticsSettingsSchema = z.object({
  /**
   * Events handled at once. Each is one short transaction on one message row and one
   * counter shard, so dozens run side by side without waiting on each other.
   */
  prefetch: z.number().int().min(1).max(256).default(32),
  /**
   * How often campaigns with nothing left in flight are marked completed: the delay between
   * a campaign's last outcome and its `campaign.completed`.
   */
  completionInterval: duration().default(1_000),
  /**
   * Rows each campaign counter is split over (`campaign_counters.shard`, at most 64): more
   * shards, fewer consumers waiting on the same row lock; reads sum them all.
   */
  counterShards: z.number().int().min(1).max(64).default(16),
});

/** The parsed settings `startAnalytics` takes (with the platform's namespace). */
export type AnalyticsSettings = z.output<typeof analyticsSettingsSchema>;

/** The configuration of an analytics process on its own: the kernel fields and its settings. */
export const analyticsConfigSchema = withModeCheck(
  kernelConfigSchema({ httpPort: 8085 }).extend(analyticsSettingsSchema.shape),
);

/** The parsed configuration of an analytics process. */
export type AnalyticsConfig = z.output<typeof analyticsConfigSchema>;
