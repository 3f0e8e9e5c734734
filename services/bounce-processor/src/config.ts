import { duration, kernelConfigSchema, withModeCheck } from '@relais/config';
import { z } from 'zod';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const domain = z
  .string()
  .transform((text) => text.toLowerCase())
  .pipe(z.string().regex(DOMAIN, { error: 'expected a domain name like bounces.example.com' }));

/** The inbound SMTP listener: the MX of the VERP return-path domain and the feedback address. */
export const inboundSettingsSchema = z
  .object({
    /** Off unless asked for: a process without the bounce domain's MX has nothing to listen to. */
    enabled: z.boolean().default(false),
    host: z.string().min(1).default('0.0.0.0'),
    /** 0 picks a free port (tests); the MX answers on 25, usually forwarded to this port. */
    port: z.number().int().min(0).max(65535).default(2525),
    /** Bounce domains (the dispatcher's `bounceDomain`): VERP addresses are accepted there. */
    domains: z.array(domain).default([]),
    /** The one address that takes ARF complaint reports (feedback loops), e.g. fbl@bounces.example.com. */
    feedbackAddress: z
      .email()
      .transform((text) => text.toLowerCase())
      .optional(),
    /** Advertised in EHLO (SIZE); a larger message is refused with 552 5.3.4. */
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(10 * 1024 * 1024),
    /** A DSN names one recipient (its VERP address); more is either a relay or a mistake. */
    maxRecipients: z.number().int().min(1).max(1000).default(10),
    maxConnections: z.number().int().min(1).max(10_000).default(100),
    /** Idle time between commands before the connection is closed (ms). */
    socketTimeout: z.number().int().min(1000).max(3_600_000).default(60_000),
    /** Longest a DATA phase may last before the connection is dropped (ms). */
    dataTimeout: z.number().int().min(1000).max(3_600_000).default(300_000),
    /** More Received headers than this is a mail loop: 554 5.4.6. */
    maxReceivedHeaders: z.number().int().min(1).max(1000).default(50),
  })
  .prefault({});

/** The worker that parses the stored inbound reports and acts on them. */
export const reportSettingsSchema = z
  .object({
    /**
     * How often pending reports are looked for. The listener also wakes the worker after
     * each accepted message, so this only bounds the delay of reports another replica took.
     */
    pollInterval: duration().prefault('5s'),
    /** Reports per transaction. */
    batchSize: z.number().int().min(1).max(500).default(50),
    /** Batches a report may roll back with (a store failure) before it is given up. */
    maxAttempts: z.number().int().min(1).max(100).default(5),
  })
  .prefault({});

/**
 * Repeated soft bounces: `threshold` soft bounces of one address (the relay's and later
 * DSNs alike) within `window` suppress it with reason `soft_bounce_repeated`.
 */
export const softBounceSettingsSchema = z
  .object({
    /** 0 turns it off: soft bounces are then only recorded. */
    threshold: z.number().int().min(0).max(1000).default(3),
    window: duration().prefault('7d'),
  })
  .prefault({});

/**
 * The service's own settings, for a process that hosts several services and nests them
 * under a key of its own (`relais up`).
 */
const bounceSettingsShape = {
  /**
   * Bounce events handled at once. Each is one short transaction; two bounces of the same
   * address only meet on the suppression's primary key, which ON CONFLICT settles.
   */
  prefetch: z.number().int().min(1).max(64).default(8),
  /**
   * The dispatcher's `bounceSecret`: VERP tokens it did not seal are refused at RCPT.
   * Required when the inbound listener is enabled.
   */
  bounceSecret: z
    .string()
    .min(32, { error: 'expected at least 32 characters (the dispatcher’s bounceSecret)' })
    .optional(),
  inbound: inboundSettingsSchema,
  reports: reportSettingsSchema,
  softBounces: softBounceSettingsSchema,
};

/**
 * Checks what the inbound listener needs, on the settings alone, on a whole process
 * configuration, or (with `path`) on the settings nested in a host's configuration after
 * it filled in what it knows (`relais up` takes the dispatcher's secret and bounce domain).
 */
export function checkInboundSettings(
  settings: { bounceSecret?: string | undefined; inbound: z.output<typeof inboundSettingsSchema> },
  ctx: z.RefinementCtx,
  path: readonly PropertyKey[] = [],
): void {
  if (!settings.inbound.enabled) return;
  if (settings.bounceSecret === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'bounceSecret'],
      message: 'the inbound listener needs the dispatcher’s bounceSecret to verify VERP tokens',
    });
  }
  if (settings.inbound.domains.length === 0 && settings.inbound.feedbackAddress === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'inbound', 'domains'],
      message: 'the inbound listener needs the bounce domain (or a feedbackAddress)',
    });
  }
}

const checkInbound = (
  settings: Parameters<typeof checkInboundSettings>[0],
  ctx: z.RefinementCtx,
): void => checkInboundSettings(settings, ctx);

/** The settings before the inbound check, for a host that completes them first. */
export const bounceSettingsBaseSchema = z.object(bounceSettingsShape);

export const bounceSettingsSchema = bounceSettingsBaseSchema.superRefine(checkInbound);

/** The settings `startBounceProcessor` takes. */
export type BounceSettings = z.output<typeof bounceSettingsSchema>;

/** The inbound listener's settings. */
export type InboundSettings = z.output<typeof inboundSettingsSchema>;

/** The configuration of a bounce processor on its own: the kernel fields and its settings. */
export const bounceConfigSchema = withModeCheck(
  kernelConfigSchema({ httpPort: 8084 }).extend(bounceSettingsShape).superRefine(checkInbound),
);

/** The parsed configuration of a bounce-processor process. */
export type BounceConfig = z.output<typeof bounceConfigSchema>;
