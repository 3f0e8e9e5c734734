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

const poolName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'pool names are lowercase letters, digits and dashes');

/**
 * The relay's own settings, for a process that hosts several services and nests them under
 * a key of its own (`relais up`: `RELAY__POOLS`, `RELAY__ROUTES='[{"pattern":…}]'`).
 */
export const relaySettingsSchema = z.object({
  /** IP pools whose transactional and marketing queues this relay consumes. */
  pools: z.array(poolName).min(1).default(['default']),
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
  /** Open SMTP connections per destination host:port; a small cap keeps providers friendly. */
  maxConnectionsPerDestination: z.number().int().min(1).max(100).default(5),
  /** Messages sent over one connection before it is replaced. */
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
   * Outbound messages in flight per queue. Every pool queue gets this many, so one slow
   * destination can hold at most this many slots while the others keep flowing.
   */
  prefetch: z.number().int().min(1).max(1000).default(64),
  /** The name this relay gives in EHLO; default: the OS hostname. */
  ehloName: z.string().min(1).optional(),
});

/** The parsed relay settings. */
export type RelaySettings = z.output<typeof relaySettingsSchema>;

/** The configuration of a relay process on its own: the kernel fields and its settings. */
export const relayConfigSchema = withModeCheck(
  kernelConfigSchema({ httpPort: 8083 }).extend(relaySettingsSchema.shape),
);

/** The parsed configuration `startRelay` takes. */
export type RelayConfig = z.output<typeof relayConfigSchema>;
