import { promises as dns } from 'node:dns';
import { relaisWorkQueues, type MessageBus, type WorkQueue } from '@relais/bus';
import type { Platform } from '@relais/platform';
import type { Logger } from '@relais/telemetry';
import { withPublishRetries } from './adapters/confirmed-publisher';
import { createDestinationResolver } from './adapters/destination-resolver';
import { createSendScheduler } from './adapters/send-scheduler';
import { createSmtpPools } from './adapters/smtp-pools';
import { createSourceSelector } from './adapters/source-selector';
import { createThrottleStore } from './adapters/throttle-store';
import { createWarmupStore } from './adapters/warmup-store';
import { createPauseStore } from './adapters/pause-store';
import { startPausedSlices } from './adapters/paused-slices';
import type { RelaySettings } from './config';
import { matchesPattern } from './domain/destination';
import { utcDay, type IpSource } from './domain/ip-sources';
import { compileProfiles } from './domain/sites';
import { onOutboundSend } from './handlers/on-outbound-send';
import type { RelayLogEvent } from './log-events';
import type {
  MxResolver,
  PauseStore,
  RelayPorts,
  SourceSnapshot,
  ThrottleSnapshot,
  ThrottleStateStore,
  WarmupStore,
} from './ports';

export {
  relayConfigSchema,
  relaySettingsSchema,
  staticRouteSchema,
  ipSourceSchema,
  providerProfileOverrideSchema,
  type RelayConfig,
  type RelaySettings,
  type StaticRoute,
} from './config';
export {
  createDestinationResolver,
  type DestinationResolverOptions,
} from './adapters/destination-resolver';
export {
  createSendScheduler,
  throttleKey,
  type SendSchedulerOptions,
} from './adapters/send-scheduler';
export { createThrottleStore } from './adapters/throttle-store';
export { createWarmupStore } from './adapters/warmup-store';
export { createPauseStore } from './adapters/pause-store';
export { startPausedSlices, type PausedSlicesOptions } from './adapters/paused-slices';
export {
  holdingPause,
  indexPauses,
  type PauseIndex,
  type PausedSlice,
} from './domain/paused-slices';
export { createSourceSelector, type SourceSelectorOptions } from './adapters/source-selector';
export {
  chooseSource,
  pickWeighted,
  warmupCap,
  type IpSource,
  type WarmupPlan,
} from './domain/ip-sources';
export { PROVIDER_PROFILES, type ProviderProfile } from './domain/provider-profiles';
export {
  compileProfiles,
  siteOf,
  isThrottleReply,
  type Site,
  type ProfileSet,
} from './domain/sites';
export {
  DEFAULT_TUNING,
  type ThrottleFeedback,
  type ThrottleState,
  type ThrottleTuning,
} from './domain/throttle-controller';
export {
  DEFAULT_DEFERRAL_SCHEDULES,
  classifyDeferral,
  deferralDelayMs,
  type DeferralClass,
  type DeferralSchedules,
} from './domain/retry-policy';
export { createSmtpPools, type SmtpPoolOptions } from './adapters/smtp-pools';
export { withPublishRetries } from './adapters/confirmed-publisher';
export { onOutboundSend, type DeliveryAttempt } from './handlers/on-outbound-send';
export { classifyReply, type DeliveryOutcome } from './domain/classify-reply';
export { parseReply, type SmtpReply } from './domain/reply';
export {
  chooseExchange,
  matchRoute,
  recipientDomain,
  type Destination,
  type MxChoice,
  type MxRecord,
  type Route,
} from './domain/destination';
export { RELAY_LOG_EVENTS, type RelayLogEvent } from './log-events';
export type * from './ports';

/** Waits before re-publishing an outcome event the broker did not confirm. */
const PUBLISH_RETRY_DELAYS_MS = [50, 250, 1_000];

/** The work queues (transactional and marketing) of the given pools. */
export function relayQueues(namespace: string, pools: readonly string[]): WorkQueue[] {
  const prefix = `${namespace}.relay.`;
  return relaisWorkQueues(namespace, [...pools]).filter((queue) => queue.name.startsWith(prefix));
}

/** What `startRelay` needs besides the platform: the relay settings and the namespace. */
export type StartRelayConfig = RelaySettings & { namespace: string };

/** Test and embedding seams; production uses the system resolver and the bus's defaults. */
export interface RelayOptions {
  /** Default: `dns.promises`. */
  resolver?: MxResolver;
  /**
   * Unused since deferral delays are the relay's own (`deferralDelays`); kept so callers that
   * still pass the bus's tiers compile.
   */
  retryTiersMs?: readonly number[];
  /** Delivery attempts before a message expires; default the `maxDeliveryAttempts` setting. */
  maxAttempts?: number;
  /** Where learned throttle states are loaded from and flushed to; default: nowhere. */
  throttleStore?: ThrottleStateStore;
  /** Where warm-up counts of the pools' sources are loaded from and added to; default: nowhere. */
  warmupStore?: WarmupStore;
  /** Where the paused campaign slices are read; default: nowhere (nothing is held). */
  pauseStore?: PauseStore;
  /** The relay's clock (warm-up days, event times); default `Date.now`. */
  now?: () => number;
  /** Wraps every handler run, so a graceful stop can wait for it. */
  trackInFlight?: <T>(work: Promise<T>) => Promise<T>;
}

/** A running relay: its consumers and SMTP pools. */
export interface Relay {
  /** The queues consumed. */
  readonly queues: readonly string[];
  /** Stops taking messages and waits for in-flight ones to settle. */
  stopConsuming(): Promise<void>;
  /** Closes every SMTP pool; call after `stopConsuming`. */
  closePools(): Promise<void>;
  /** The throttle controllers now (rate, concurrency, counters, history) and postponements. */
  throttles(): { sites: ThrottleSnapshot[]; postponed: number };
  /** Each pool's sources with their sends and warm-up cap today. */
  sources(): SourceSnapshot[];
}

/**
 * Declares and consumes the relay queues of the configured pools on `bus`, with one SMTP
 * pool per destination. The platform-free core of `startRelay`, for tests and benchmarks.
 */
export async function runRelay(
  bus: MessageBus,
  logger: Logger,
  config: StartRelayConfig,
  options: RelayOptions = {},
): Promise<Relay> {
  const track = options.trackInFlight ?? (<T>(work: Promise<T>) => work);
  const maxAttempts = options.maxAttempts ?? config.maxDeliveryAttempts;
  const throttleStore = options.throttleStore;
  const learned =
    throttleStore === undefined ? undefined : await loadLearned(throttleStore, logger);
  const now = options.now ?? Date.now;
  const warmupStore = options.warmupStore;
  const sentToday =
    warmupStore === undefined ? undefined : await loadWarmup(warmupStore, now(), logger);
  const sources = createSourceSelector({
    pools: ipSourcesOf(config.ipPools),
    ...(sentToday === undefined ? {} : { sentToday }),
    now,
  });
  const scheduler = createSendScheduler({
    readyQueueMax: config.readyQueueMax,
    maxReadyWaitMs: config.maxReadyWait,
    ...(learned === undefined ? {} : { learned }),
  });
  const pauses =
    options.pauseStore === undefined
      ? undefined
      : await startPausedSlices({
          store: options.pauseStore,
          refreshMs: config.pauseRefreshInterval,
          logger,
        });
  const smtp = createSmtpPools({
    connectionTimeoutMs: config.connectionTimeout,
    greetingTimeoutMs: config.greetingTimeout,
    socketTimeoutMs: config.socketTimeout,
    idleTimeoutMs: config.idleTimeout,
    ehloName: config.ehloName,
    logger,
  });
  const base: Omit<RelayPorts, 'logger'> = {
    destinations: createDestinationResolver({
      routes: config.routes,
      resolver: options.resolver ?? dns,
      mxPort: config.mxPort,
      cacheTtlMs: config.mxCacheTtl,
      mxLookup: config.mxLookup,
    }),
    smtp,
    scheduler,
    sources,
    // The relay-wide connection settings are the default profile's: every destination no
    // provider profile claims is shaped exactly as before profiles existed.
    profiles: compileProfiles([
      {
        name: 'default',
        maxConnections: config.maxConnectionsPerDestination,
        maxMessagesPerConnection: config.maxMessagesPerConnection,
      },
      ...config.providerProfiles,
    ]),
    publish: withPublishRetries((envelope) => bus.publish(envelope), PUBLISH_RETRY_DELAYS_MS),
    schedules: {
      greylisting: config.deferralDelays.greylisting,
      mailboxFull: config.deferralDelays.mailboxFull,
      noConnection: config.deferralDelays.noConnection,
      other: config.deferralDelays.other,
      rateLimitedMinMs: config.deferralDelays.rateLimitedMin,
      rateLimitedMaxMs: config.deferralDelays.rateLimitedMax,
    },
    maxAttempts,
    maxMessageAgeMs: config.maxMessageAge,
    requiresTls: (domain) =>
      config.tlsRequiredDomains.some((pattern) => matchesPattern(pattern, domain)),
    now: () => new Date(now()),
    ...(pauses === undefined ? {} : { pauses, pausedRecheckMs: config.pausedRecheck }),
  };
  const queues = relayQueues(config.namespace, config.pools);
  await bus.declare(queues);
  const subscriptions = await Promise.all(
    queues.map((queue) =>
      bus.subscribe(
        queue.name,
        {
          'outbound.send': (envelope, context) =>
            track(
              onOutboundSend(
                envelope,
                { ...base, logger: context.logger },
                { attempt: context.attempt },
              ),
            ),
        },
        // The relay expires messages itself (age, attempts); the bus never dead-letters a
        // deferral first.
        { prefetch: config.prefetch, maxAttempts },
      ),
    ),
  );
  logger.info(
    {
      'event.action': 'relay.consumer_started' satisfies RelayLogEvent,
      relais: { queues: queues.map((queue) => queue.name) },
    },
    'relay consuming its pool queues',
  );
  const flush = async (): Promise<void> => {
    if (throttleStore === undefined) return;
    const changed = scheduler.snapshot(true);
    try {
      await throttleStore.save(changed);
      scheduler.markSaved(changed);
    } catch (error) {
      logger.warn(
        {
          err: error,
          'event.action': 'relay.throttle_flush_failed' satisfies RelayLogEvent,
          relais: { sites: changed.length },
        },
        'throttle states not saved; the next flush retries',
      );
    }
  };
  const flushWarmup = async (): Promise<void> => {
    if (warmupStore === undefined) return;
    const counts = sources.takeUnsaved();
    try {
      await warmupStore.add(counts);
    } catch (error) {
      sources.restoreUnsaved(counts);
      logger.warn(
        {
          err: error,
          'event.action': 'relay.warmup_flush_failed' satisfies RelayLogEvent,
          relais: { sources: counts.length },
        },
        'warm-up counts not saved; the next flush adds them',
      );
    }
  };
  const flusher =
    throttleStore === undefined && warmupStore === undefined
      ? undefined
      : setInterval(() => void Promise.all([flush(), flushWarmup()]), config.throttleFlushInterval);
  flusher?.unref();
  return {
    queues: queues.map((queue) => queue.name),
    async stopConsuming() {
      scheduler.close();
      await Promise.all(subscriptions.map((subscription) => subscription.cancel()));
      await pauses?.close();
    },
    throttles: () => ({ sites: scheduler.snapshot(false), postponed: scheduler.stats().postponed }),
    sources: () => sources.snapshot(),
    async closePools() {
      if (flusher !== undefined) clearInterval(flusher);
      await Promise.all([flush(), flushWarmup()]);
      await smtp.close();
      logger.info(
        { 'event.action': 'relay.pools_closed' satisfies RelayLogEvent },
        'smtp pools closed',
      );
    },
  };
}

/**
 * Starts the relay on the platform's bus. On shutdown the consumers stop taking messages,
 * in-flight sends finish (their outcomes are published and acked), then the pools close.
 */
export async function startRelay(
  platform: Platform,
  config: StartRelayConfig,
  options: Omit<RelayOptions, 'trackInFlight'> = {},
): Promise<Relay> {
  const relay = await runRelay(platform.bus, platform.logger, config, {
    throttleStore: createThrottleStore(platform.store),
    warmupStore: createWarmupStore(platform.store),
    pauseStore: createPauseStore(platform.store),
    ...options,
    trackInFlight: (work) => platform.runtime.trackInFlight(work),
  });
  platform.runtime.onShutdown('relay consumers', () => relay.stopConsuming(), 'intake');
  platform.runtime.onShutdown('relay smtp pools', () => relay.closePools(), 'connections');
  return relay;
}

/** Learned states from the store; a store that cannot answer leaves every site at its profile. */
async function loadLearned(store: ThrottleStateStore, logger: Logger) {
  try {
    const learned = await store.load();
    logger.info(
      {
        'event.action': 'relay.throttle_states_loaded' satisfies RelayLogEvent,
        relais: { sites: learned.size },
      },
      'throttle states loaded',
    );
    return learned;
  } catch (error) {
    logger.warn(
      { err: error, 'event.action': 'relay.throttle_load_failed' satisfies RelayLogEvent },
      'throttle states not loaded; sites start from their profiles',
    );
    return undefined;
  }
}

/** The configured pools' sources, warm-up days as instants. */
function ipSourcesOf(pools: RelaySettings['ipPools']): Map<string, IpSource[]> {
  return new Map(
    Object.entries(pools).map(([pool, { sources }]) => [
      pool,
      sources.map(({ warmup, ...source }) => ({
        ...source,
        ...(warmup === undefined
          ? {}
          : {
              warmup:
                'dailyCaps' in warmup
                  ? { startMs: warmup.start, dailyCaps: warmup.dailyCaps }
                  : {
                      startMs: warmup.start,
                      firstDayCap: warmup.firstDayCap,
                      growthFactor: warmup.growthFactor,
                      warmCap: warmup.warmCap,
                    },
            }),
      })),
    ]),
  );
}

/** Today's sends per source; a store that cannot answer starts every source's day at zero. */
async function loadWarmup(store: WarmupStore, nowMs: number, logger: Logger) {
  try {
    const sent = await store.load(utcDay(nowMs));
    logger.info(
      {
        'event.action': 'relay.warmup_loaded' satisfies RelayLogEvent,
        relais: { sources: sent.size },
      },
      'warm-up counts of today loaded',
    );
    return sent;
  } catch (error) {
    logger.warn(
      { err: error, 'event.action': 'relay.warmup_load_failed' satisfies RelayLogEvent },
      'warm-up counts not loaded; sources count today from zero',
    );
    return undefined;
  }
}
