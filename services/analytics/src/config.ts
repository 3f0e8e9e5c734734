import { duration, kernelConfigSchema, withModeCheck } from '@relais/config';
import { z } from 'zod';

/** A breaker's threshold (a share, 0.05 for 5 %) and the fewest observations it acts on. */
const breakerRule = (threshold: number, minSample: number) =>
  z.object({
    threshold: z.number().gt(0).lt(1).default(threshold),
    minSample: z.number().int().min(1).default(minSample),
  });

/**
 * The service's own settings, for a process that hosts several services and nests them
 * under a key of its own (`relais up`: `ANALYTICS__PREFETCH`).
 */
export const analyticsSettingsSchema = z.object({
  /**
   * Events delivered to this process before it acknowledges any: the pool micro-batches
   * are drawn from. At least `batchSize`, or batches never fill.
   */
  prefetch: z.number().int().min(1).max(1000).default(256),
  /**
   * Most delivery events recorded in one transaction (one claim, one guarded UPDATE, one
   * counter upsert for all of them). A batch is whatever arrived in the same tick or while
   * the previous one was committing, up to this size.
   */
  batchSize: z.number().int().min(1).max(1000).default(256),
  /**
   * How often campaigns with nothing left in flight are marked completed: the delay between
   * a campaign's last outcome and its `campaign.completed`.
   */
  completionInterval: duration().default(1_000),
  /**
   * Circuit breakers (docs/api/analytics.md, "Automatic protection"): a campaign's mail to
   * one mailbox provider, or through one IP pool, is paused when its hard-bounce or
   * complaint rate over the sliding `window` is above the threshold with `confidence`
   * (the lower bound of the one-sided Wilson interval is above it) on at least `minSample`
   * observations. One replica sweeps at a time.
   */
  breakers: z
    .object({
      enabled: z.boolean().default(true),
      /** How often the window is evaluated: part of the delay between a spike and its pause. */
      interval: duration().prefault('5s'),
      /** The sliding window; its resolution is 5 s (the `breaker_window` buckets). */
      window: duration().prefault('10m'),
      /**
       * A shorter window judged before `window` (0 turns it off), so a sudden change is
       * not diluted by the minutes before it; each window needs its own `minSample`.
       */
      fastWindow: duration().prefault('1m'),
      /** One-sided confidence that the true rate is above the threshold. */
      confidence: z.number().gt(0.5).lt(1).default(0.95),
      /** Watch each campaign's IP pools too, besides its mailbox providers. */
      pools: z.boolean().default(true),
      /**
       * Hard bounces / (delivered + hard + soft bounces). 5 %: the bounce rate at which
       * Amazon SES places a sending account under review (it may pause sending at 10 %).
       */
      bounceRate: breakerRule(0.05, 100).prefault({}),
      /**
       * Complaints / delivered. 0.3 %: Gmail's and Yahoo's bulk-sender requirements
       * (February 2024) — spam rate below 0.3 %, never reaching it.
       */
      complaintRate: breakerRule(0.003, 100).prefault({}),
    })
    .prefault({}),
  /**
   * Rows each campaign counter is split over (`campaign_counters.shard`, at most 64): more
   * shards, fewer consumers waiting on the same row lock; reads sum them all.
   */
  counterShards: z.number().int().min(1).max(64).default(16),
  /**
   * The dispatcher's unsubscribe secret (`DISPATCHER__UNSUBSCRIBE_SECRET`), which signs the
   * one-click links; without it `/u/<token>` is not served. `relais up` passes the
   * dispatcher's own. `unsubscribePreviousSecrets` still verify links of older mail during
   * a rotation.
   */
  unsubscribeSecret: z
    .string()
    .min(32, { error: 'expected at least 32 characters (the dispatcher’s unsubscribe secret)' })
    .optional(),
  unsubscribePreviousSecrets: z.array(z.string().min(32)).default([]),
  /** Open pixel and click redirect (`/o/<token>.gif`, `/c/<token>`); see docs/api/analytics.md. */
  tracking: z
    .object({
      /**
       * The dispatcher's tracking secret (`DISPATCHER__TRACKING__SECRET`, itself the
       * unsubscribe secret by default); absent: `unsubscribeSecret`. Without either the
       * routes are not served. `previousSecrets` verify links of older mail.
       */
      secret: z.string().min(32).optional(),
      previousSecrets: z.array(z.string().min(32)).default([]),
      /** Older links answer 404 (clicks) or are not recorded (opens). */
      linkLifetime: duration().prefault('400d'),
      /** An open sooner than this after delivery is a machine's (a scanner's prefetch). */
      machineOpenWindow: duration().prefault('2s'),
      /** A click sooner than this after delivery is a machine's. */
      machineClickWindow: duration().prefault('5s'),
      /** Every link of a message clicked within this window is a scanner walking them. */
      clickBurstWindow: duration().prefault('10s'),
      /** CIDRs of load balancers whose X-Forwarded-For names the client; none by default. */
      trustedProxies: z.array(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/)).default([]),
      /** How long after a human open or click a contact's conversion is credited to it. */
      attributionWindow: duration().prefault('7d'),
    })
    .prefault({}),
  /**
   * Ships delivery, feedback, engagement and campaign events to Elasticsearch, in the data
   * stream `relais-events-<namespace>`, when `url` is set (`ANALYTICS__ELASTICSEARCH__URL`).
   * Events wait in memory while it is slow or down (at most `maxQueue`, oldest dropped
   * past it); consumption never waits for it. See docs/operations.md.
   */
  elasticsearch: z
    .object({
      url: z.url(),
      /** The data stream's last part: one per environment sharing a cluster. */
      namespace: z
        .string()
        .regex(/^[a-z0-9][a-z0-9_.]*$/, { error: 'lowercase letters, digits, _ and . only' })
        .default('default'),
      /** Most events per bulk request; a full batch is sent at once. */
      batchSize: z.number().int().min(1).max(10_000).default(500),
      /** How long the first queued event waits for its batch to fill. */
      flushInterval: duration().prefault('1s'),
      /** Most events held in memory while Elasticsearch is away (about 1 KB each). */
      maxQueue: z.number().int().min(1).default(100_000),
      /** Longest wait between retries (doubling from 500 ms, jittered). */
      maxBackoff: duration().prefault('30s'),
      /** A bulk request slower than this fails and is retried. */
      requestTimeout: duration().prefault('10s'),
      /** Install the ILM policy and templates of deploy/elasticsearch before shipping. */
      installTemplates: z.boolean().default(true),
    })
    .optional(),
});

/** The parsed settings `startAnalytics` takes (with the platform's namespace). */
export type AnalyticsSettings = z.output<typeof analyticsSettingsSchema>;

/** The configuration of an analytics process on its own: the kernel fields and its settings. */
export const analyticsConfigSchema = withModeCheck(
  kernelConfigSchema({ httpPort: 8085 }).extend(analyticsSettingsSchema.shape),
);

/** The parsed configuration of an analytics process. */
export type AnalyticsConfig = z.output<typeof analyticsConfigSchema>;
