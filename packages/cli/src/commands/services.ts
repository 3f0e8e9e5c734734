import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { analyticsSettingsSchema, startAnalytics } from '@relais/analytics';
import {
  bounceSettingsBaseSchema,
  checkInboundSettings,
  startBounceProcessor,
  type BounceProcessorHandle,
  type BounceSettings,
} from '@relais/bounce-processor';
import { kernelConfigSchema, mode, withModeCheck, type KernelConfig } from '@relais/config';
import { RelaisError } from '@relais/domain';
import { campaignConfigSchema, startCampaign } from '@relais/campaign';
import {
  dispatcherSettingsSchema,
  startDispatcher,
  type DispatcherHandle,
  type DispatcherSettings,
} from '@relais/dispatcher';
import { relayQueues, relaySettingsSchema, startRelay, type StaticRoute } from '@relais/mta-relay';
import type { Platform } from '@relais/platform';
import { segmentationSettingsSchema, startSegmentation } from '@relais/segmentation';
import type { CliLogEvent } from '../log-events';

/** The services `relais service <name>` can run, in the order `relais up` starts them. */
export const SERVICE_NAMES = [
  'campaign',
  'segmentation',
  'dispatcher',
  'mta-relay',
  'bounce-processor',
  'analytics',
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

// Identity settings a production dispatcher must be given; embedded mode invents them.
const IDENTITY_KEYS = {
  sendingDomain: true,
  bounceDomain: true,
  bounceSecret: true,
  unsubscribeBaseUrl: true,
  unsubscribeSecret: true,
} as const;

/**
 * The settings of every service, each under its own key (env `CAMPAIGN__SCHEDULER_INTERVAL`,
 * `DISPATCHER__SENDING_DOMAIN`, `RELAY__ROUTES`…). `relais up` and `relais service <name>`
 * read the same variables, so one environment serves either shape.
 */
export function platformConfigSchema() {
  return withModeCheck(
    kernelConfigSchema({ httpPort: 8080 })
      .extend({
        campaign: campaignConfigSchema.prefault({}),
        segmentation: segmentationSettingsSchema.prefault({}),
        dispatcher: dispatcherSettingsSchema.partial(IDENTITY_KEYS).prefault({}),
        relay: relaySettingsSchema.prefault({}),
        bounces: bounceSettingsBaseSchema.prefault({}),
        analytics: analyticsSettingsSchema.prefault({}),
      })
      .superRefine((config, ctx) =>
        checkInboundSettings(bounceSettingsOf(config), ctx, ['bounces']),
      ),
  );
}

export type PlatformConfig = z.output<ReturnType<typeof platformConfigSchema>>;

/**
 * The bounce processor's settings, completed from the dispatcher's: one environment names
 * the bounce secret and domain once (`DISPATCHER__BOUNCE_SECRET`, `…__BOUNCE_DOMAIN`), and
 * `BOUNCES__BOUNCE_SECRET` / `BOUNCES__INBOUND__DOMAINS` override them.
 */
export function bounceSettingsOf(config: {
  bounces: BounceSettings;
  dispatcher: { bounceSecret?: string | undefined; bounceDomain?: string | undefined };
}): BounceSettings {
  const { bounces, dispatcher } = config;
  const bounceSecret = bounces.bounceSecret ?? dispatcher.bounceSecret;
  const domains =
    bounces.inbound.domains.length > 0 || dispatcher.bounceDomain === undefined
      ? bounces.inbound.domains
      : [dispatcher.bounceDomain];
  return {
    ...bounces,
    ...(bounceSecret === undefined ? {} : { bounceSecret }),
    inbound: { ...bounces.inbound, domains },
  };
}

/** How a host (`relais up`, `relais demo`, a test) wants the services started. */
export interface ServicesOptions {
  /** Start only these; default: all of them. */
  only?: readonly ServiceName[];
  /**
   * Static routes tried before the configured ones, e.g. the embedded simulator's. In
   * embedded mode the relay looks up no MX: these and the configured routes are all it uses.
   */
  relayRoutes?: readonly StaticRoute[];
  /** Deliver through static routes only, even in distributed mode (the demo's simulator). */
  routesOnly?: boolean;
  /** From `prepareServices`; resolved here when absent. */
  dispatcher?: ResolvedDispatcherSettings;
  /** The bounce processor's settings instead of the configured ones (`loopbackInbound`). */
  bounces?: BounceSettings;
}

/** What the started services tell their host. */
export interface StartedServices {
  readonly started: readonly ServiceName[];
  /** Set when the dispatcher runs: the DKIM public keys receivers must be able to find. */
  readonly dispatcher?: DispatcherHandle;
  /** Set when the bounce processor runs: the inbound listener's port, when it listens. */
  readonly bounces?: BounceProcessorHandle;
}

/**
 * The bounce processor's settings in a process that also runs the provider simulator
 * (embedded `relais up`, `relais demo`): the inbound listener on 127.0.0.1 at a free port,
 * for the dispatcher's bounce domain and with its secret, taking complaints at the
 * configured feedback address or `fbl@<bounce domain>`. The simulator is pointed at it.
 */
export function loopbackInbound(
  config: PlatformConfig,
  dispatcher: DispatcherSettings,
): BounceSettings {
  const bounces = bounceSettingsOf(config);
  return {
    ...bounces,
    bounceSecret: bounces.bounceSecret ?? dispatcher.bounceSecret,
    inbound: {
      ...bounces.inbound,
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      domains: [dispatcher.bounceDomain.toLowerCase()],
      feedbackAddress:
        bounces.inbound.feedbackAddress ?? `fbl@${dispatcher.bounceDomain.toLowerCase()}`,
    },
  };
}

/** The dispatcher's settings, and which identity settings embedded mode made up. */
export interface ResolvedDispatcherSettings {
  settings: DispatcherSettings;
  invented: string[];
}

/**
 * The dispatcher's identity: as configured, or in embedded mode invented for this process
 * (random token secrets: links and VERP addresses of an earlier run stop verifying; DKIM
 * keys generated in memory). Distributed mode refuses to start without them (keys
 * included), naming the variables to set. Pure, so hosts call it before connecting.
 */
export function dispatcherSettingsOf(config: PlatformConfig): ResolvedDispatcherSettings {
  const given = config.dispatcher;
  const missing = Object.keys(IDENTITY_KEYS)
    .filter((key) => given[key as keyof typeof IDENTITY_KEYS] === undefined)
    .map((key) => `DISPATCHER__${screamingSnake(key)}`);
  if (mode(config) === 'distributed') {
    // A key generated in one process could never be published in DNS.
    for (const algorithm of ['rsa', 'ed25519'] as const) {
      if (given.dkim[algorithm].privateKey === undefined) {
        missing.push(`DISPATCHER__DKIM__${algorithm.toUpperCase()}__PRIVATE_KEY`);
      }
    }
    if (missing.length > 0) {
      throw new RelaisError('CONFIG_INVALID', `distributed mode needs ${missing.join(', ')}`, {
        details: { missing: missing.join(', ') },
      });
    }
  }
  return {
    invented: missing,
    settings: {
      ...given,
      sendingDomain: given.sendingDomain ?? 'mail.relais.test',
      bounceDomain: given.bounceDomain ?? 'bounces.relais.test',
      bounceSecret: given.bounceSecret ?? randomBytes(32).toString('hex'),
      unsubscribeBaseUrl: given.unsubscribeBaseUrl ?? 'https://links.relais.test',
      unsubscribeSecret: given.unsubscribeSecret ?? randomBytes(32).toString('hex'),
      tracking: {
        ...given.tracking,
        // Embedded mode serves the pixel and redirects on this process's port, on loopback
        // (the simulator's recipients fetch them there); an ephemeral port is not known yet.
        baseUrl:
          given.tracking.baseUrl ??
          (mode(config) === 'embedded' && config.httpPort > 0
            ? `http://127.0.0.1:${config.httpPort}`
            : undefined),
      },
    },
  };
}

/**
 * Checks what can be checked before any connection opens (the dispatcher's identity);
 * throws CONFIG_INVALID. Pass the result to `startServices`.
 */
export function prepareServices(
  config: PlatformConfig,
  only: readonly ServiceName[] = SERVICE_NAMES,
): ServicesOptions {
  return only.includes('dispatcher')
    ? { only, dispatcher: dispatcherSettingsOf(config) }
    : { only };
}

function screamingSnake(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
}

/**
 * Starts the chosen services on one platform: all of them for `relais up` (the embedded or
 * all-in-one shape), one for `relais service <name>`.
 */
export async function startServices(
  platform: Platform,
  config: PlatformConfig,
  options: ServicesOptions = {},
): Promise<StartedServices> {
  const kernel: KernelConfig = config;
  const wanted = new Set<ServiceName>(options.only ?? SERVICE_NAMES);
  const started = SERVICE_NAMES.filter((name) => wanted.has(name));
  let dispatcher: DispatcherHandle | undefined;
  let bounces: BounceProcessorHandle | undefined;

  const resolved = wanted.has('dispatcher')
    ? (options.dispatcher ?? dispatcherSettingsOf(config))
    : undefined;
  // Before campaign: both routers live under /v1, and campaign's answers 404 to the rest.
  if (wanted.has('analytics')) {
    await startAnalytics(platform, {
      ...config.analytics,
      namespace: config.namespace,
      // The one-click links are signed by the dispatcher: verify with its secret unless
      // analytics was given one (in one process, the secret embedded mode made up).
      unsubscribeSecret:
        config.analytics.unsubscribeSecret ??
        resolved?.settings.unsubscribeSecret ??
        config.dispatcher.unsubscribeSecret,
      // Tracking links too are signed by the dispatcher (with its unsubscribe secret unless
      // it was given a tracking secret).
      tracking: {
        ...config.analytics.tracking,
        secret:
          config.analytics.tracking.secret ??
          resolved?.settings.tracking.secret ??
          config.dispatcher.tracking.secret,
      },
    });
  }
  if (wanted.has('campaign')) {
    await startCampaign(platform, { ...config.campaign, namespace: config.namespace });
  }
  if (wanted.has('segmentation')) {
    await startSegmentation(platform, { ...kernel, ...config.segmentation });
  }
  if (resolved !== undefined) {
    if (resolved.invented.length > 0) {
      platform.logger.warn(
        {
          'event.action': 'relais.embedded_identity' satisfies CliLogEvent,
          relais: { invented: resolved.invented.join(',') },
        },
        'embedded mode: sending identity not configured, using relais.test names and per-process secrets',
      );
    }
    dispatcher = await startDispatcher(platform, { ...kernel, ...resolved.settings });
    // The routing policy may name pools no relay has declared yet; a message published to
    // an outbound key without its queue would be lost.
    await platform.bus.declare(relayQueues(config.namespace, dispatcher.pools));
  }
  if (wanted.has('mta-relay')) {
    // Embedded mode is for trying relais out: it must never send real mail.
    const routesOnly = options.routesOnly === true || platform.mode === 'embedded';
    const pools = new Set([...config.relay.pools, ...(dispatcher?.pools ?? [])]);
    await startRelay(platform, {
      ...config.relay,
      namespace: config.namespace,
      pools: [...pools],
      routes: [...(options.relayRoutes ?? []), ...config.relay.routes],
      mxLookup: routesOnly ? false : config.relay.mxLookup,
    });
  }
  if (wanted.has('bounce-processor')) {
    bounces = await startBounceProcessor(platform, {
      ...(options.bounces ?? bounceSettingsOf(config)),
      namespace: config.namespace,
    });
  }
  return {
    started,
    ...(dispatcher === undefined ? {} : { dispatcher }),
    ...(bounces === undefined ? {} : { bounces }),
  };
}
