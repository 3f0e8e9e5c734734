import { duration, kernelConfigSchema, withModeCheck } from '@relais/config';
import { z } from 'zod';

// `gmail.test` (exact) or `*.gmail.test` (subdomains only), the simulator's pattern shapes.
const domainPattern = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a domain like gmail.test or *.gmail.test');

/** One static route: recipients whose domain matches `pattern` go to host:port, MX ignored. */
export const staticRouteSchema = z.object({
  pattern: domainPattern,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(25),
});

/** A parsed static route. */
export type StaticRoute = z.output<typeof staticRouteSchema>;

const hostPattern = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'a host like mx.example.com or *.example.com');

const regexSource = z.string().refine((source) => {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}, 'a valid regular expression');

/**
 * A provider profile override: `name` picks a built-in profile (google, microsoft, yahoo,
 * apple, orange, sfr, free, laposte, gmx-webde, default) whose given fields are replaced, or
 * adds a profile of that name (matched before the built-in ones).
 */
export const providerProfileOverrideSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  mxHosts: z.array(hostPattern).optional(),
  domains: z.array(domainPattern).optional(),
  maxConnections: z.number().int().min(1).max(100).optional(),
  maxMessagesPerConnection: z.number().int().min(1).max(10_000).optional(),
  initialRatePerSecond: z.number().positive().optional(),
  maxRatePerSecond: z.number().positive().optional(),
  throttleReplies: z.array(regexSource).optional(),
});

/** Delays after a deferral by its class; each list's last entry repeats. */
const deferralSchedulesSchema = z.object({
  greylisting: z.array(duration()).min(1).prefault(['2m', '5m', '15m', '30m', '1h']),
  mailboxFull: z.array(duration()).min(1).prefault(['1h', '3h', '6h']),
  noConnection: z.array(duration()).min(1).prefault(['5m', '15m', '30m', '1h', '2h']),
  other: z.array(duration()).min(1).prefault(['10m', '30m', '1h', '2h', '4h']),
  rateLimitedMin: duration().prefault('1s'),
  rateLimitedMax: duration().prefault('15m'),
});

const poolName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'pool names are lowercase letters, digits and dashes');

// A UTC day as `2026-11-01`, or its midnight in epoch ms (what parsing yields, so parsed
// settings parse again unchanged, as durations do).
const isoDay = z.union([
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'a UTC day like 2026-11-01')
    .transform((day, ctx) => {
      const ms = Date.parse(`${day}T00:00:00Z`);
      if (Number.isNaN(ms)) ctx.addIssue({ code: 'custom', message: `${day} is not a day` });
      return ms;
    }),
  z
    .number()
    .int()
    .refine((ms) => ms % 86_400_000 === 0, 'a UTC midnight in epoch milliseconds'),
]);

const dailyCap = z.number().int().min(1);

/**
 * A new source's ramp: from its first UTC day `start`, either a list of daily caps
 * (`dailyCaps: [50, 100, 200]`; warm after the list) or a growth rule (`firstDayCap: 50`,
 * `growthFactor: 2`, warm once a day's cap reaches `warmCap`).
 */
const warmupSchema = z.union([
  z.strictObject({ start: isoDay, dailyCaps: z.array(dailyCap).min(1) }),
  z.strictObject({
    start: isoDay,
    firstDayCap: dailyCap,
    growthFactor: z.number().gt(1).default(2),
    warmCap: dailyCap,
  }),
]);

/** One egress source of a pool: the local address connections bind to and its EHLO name. */
export const ipSourceSchema = z.object({
  address: z.union([z.ipv4(), z.ipv6()]),
  /** Said in EHLO from this address; should be the address's PTR name. */
  ehlo: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a host name like mta1.example.com'),
  /** Its share of the pool's sends relative to the other sources'; 0 takes it out of use. */
  weight: z.number().int().min(0).max(1000).default(1),
  warmup: warmupSchema.optional(),
});

/** A pool's sources; without any, connections leave from the OS's default address. */
const ipPoolSchema = z
  .object({ sources: z.array(ipSourceSchema).default([]) })
  .refine(
    (pool) => new Set(pool.sources.map((source) => source.address)).size === pool.sources.length,
    'each source address appears once in a pool',
  );

/**
 * The relay's own settings, for a process that hosts several services and nests them under
 * a key of its own (`relais up`: `RELAY__POOLS`, `RELAY__ROUTES='[{"pattern":…}]'`).
 */
export const relaySettingsSchema = z.object({
  /** IP pools whose transactional and marketing queues this relay consumes. */
  pools: z.array(poolName).min(1).default(['default']),
  /**
   * Source addresses per pool (`{ "bulk": { "sources": [{ "address": "192.0.2.10", "ehlo":
   * "mta1.example.com", "weight": 2, "warmup": { "start": "2026-11-01", "dailyCaps": [50,
   * 100] } }] } }`). A pool not listed, or listed without sources, uses the OS default.
   */
  ipPools: z.record(poolName, ipPoolSchema).default({}),
  /** Checked in order before any MX lookup; the first matching pattern wins. */
  routes: z.array(staticRouteSchema).default([]),
  /**
   * False: only static routes are used and any other domain is refused (550 5.7.1, soft);
   * embedded mode sets it so a demo can never send real mail.
   */
  mxLookup: z.boolean().default(true),
  /** Port used for hosts found by MX (or A fallback) lookup. */
  mxPort: z.number().int().min(1).max(65535).default(25),
  /** How long a domain's MX answer is reused before it is looked up again. */
  mxCacheTtl: duration().prefault('5m'),
  /**
   * Open SMTP connections per destination host:port of the default profile (sites no provider
   * profile claims); a small cap keeps small servers friendly.
   */
  maxConnectionsPerDestination: z.number().int().min(1).max(100).default(5),
  /** Messages sent over one connection before it is replaced (default profile). */
  maxMessagesPerConnection: z.number().int().min(1).max(10_000).default(100),
  /** TCP connect timeout. */
  connectionTimeout: duration().prefault('30s'),
  /** Wait for the 220 greeting after connecting. */
  greetingTimeout: duration().prefault('30s'),
  /** Inactivity on an open connection, e.g. a server that never answers DATA. */
  socketTimeout: duration().prefault('2m'),
  /** A destination's pool (and its connections) is closed after this long unused. */
  idleTimeout: duration().prefault('30s'),
  /**
   * Outbound messages in flight per queue (held unacknowledged: waiting in a site's ready
   * queue or being sent). A slow, throttling site can hold its connections' worth plus its
   * ready queue (`readyQueueMax`) of them before it postpones the rest, so the prefetch
   * must leave the healthy sites far more than that. Measured with the relay bench's
   * head-of-line scenario (99 healthy domains at about 2,600 msg/s, one slow throttling
   * domain): the healthy throughput dropped 32 % with 64, 19 % with 256 and 8 % with 512
   * (ready queues of 32 then; with the deeper ready queues below, 4 %).
   * The cost is memory: up to this many messages per queue (512 × 100 KB ≈ 50 MB).
   */
  prefetch: z.number().int().min(1).max(1000).default(512),
  /** The name this relay gives in EHLO; default: the OS hostname. */
  ehloName: z.string().min(1).optional(),
  /** Changes to the built-in provider profiles (see `src/domain/provider-profiles.ts`). */
  providerProfiles: z.array(providerProfileOverrideSchema).default([]),
  /** Recipient domains (`bank.example`, `*.bank.example`) only ever sent to over STARTTLS. */
  tlsRequiredDomains: z.array(domainPattern).default([]),
  /**
   * Messages of one (pool × site) held in memory waiting for their turn. As deep as the
   * prefetch: what bounds a site's share is `maxReadyWait`, counted at the site's real
   * pace, so a fast site keeps its backlog in memory while a slow one holds a few seconds'
   * worth. A shallow queue (the former 32) sent a fast site's overflow round the bus again
   * and again, and that churn kept RabbitMQ at a full core: a 20,000-message backlog to one
   * site drained at 240 msg/s instead of 420 in the relay bench.
   */
  readyQueueMax: z.number().int().min(0).max(1000).default(512),
  /**
   * A message whose site cannot take it within this long goes back to the bus instead; the
   * wait counts the site's rate and its connections' pace (messages per connection per
   * second), whichever is slower.
   */
  maxReadyWait: duration().prefault('2s'),
  /** A message first tried longer ago than this expires (4.4.7) instead of being retried. */
  maxMessageAge: duration().prefault('5d'),
  /** Delivery attempts of one message before it expires, whatever its age. */
  maxDeliveryAttempts: z.number().int().min(1).max(1000).default(100),
  deferralDelays: deferralSchedulesSchema.prefault({}),
  /** How often the throttle controllers' learned state and warm-up counts are written. */
  throttleFlushInterval: duration().prefault('30s'),
  /**
   * How often the paused campaign slices (a circuit breaker's paused provider or pool) are
   * read again: the longest a new pause or a resume takes to reach this relay.
   */
  pauseRefreshInterval: duration().prefault('5s'),
  /** How long a held message of a paused slice waits on the bus before it is checked again. */
  pausedRecheck: duration().prefault('20s'),
});

/** The parsed relay settings. */
export type RelaySettings = z.output<typeof relaySettingsSchema>;

/** The configuration of a relay process on its own: the kernel fields and its settings. */
export const relayConfigSchema = withModeCheck(
  kernelConfigSchema({ httpPort: 8083 }).extend(relaySettingsSchema.shape),
);

/** The parsed configuration `startRelay` takes. */
export type RelayConfig = z.output<typeof relayConfigSchema>;
