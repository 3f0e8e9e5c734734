import { promises as dns } from 'node:dns';
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_TIERS_MS,
  relaisWorkQueues,
  type MessageBus,
  type WorkQueue,
} from '@relais/bus';
import type { Platform } from '@relais/platform';
import type { Logger } from '@relais/telemetry';
import { withPublishRetries } from './adapters/confirmed-publisher';
import { createDestinationResolver } from './adapters/destination-resolver';
import { createSmtpPools } from './adapters/smtp-pools';
import type { RelaySettings } from './config';
import { onOutboundSend } from './handlers/on-outbound-send';
import type { RelayLogEvent } from './log-events';
import type { MxResolver, RelayPorts } from './ports';

export {
  relayConfigSchema,
  relaySettingsSchema,
  staticRouteSchema,
  type RelayConfig,
  type RelaySettings,
  type StaticRoute,
} from './config';
export {
  createDestinationResolver,
  type DestinationResolverOptions,
} from './adapters/destination-resolver';
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
  /** Must match the bus's retry tiers, so `retryAt` says when the retry comes. */
  retryTiersMs?: readonly number[];
  /** Must match the bus's `maxAttempts`. */
  maxAttempts?: number;
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
  const tiers = options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS;
  const track = options.trackInFlight ?? (<T>(work: Promise<T>) => work);
  const smtp = createSmtpPools({
    maxConnectionsPerDestination: config.maxConnectionsPerDestination,
    maxMessagesPerConnection: config.maxMessagesPerConnection,
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
    publish: withPublishRetries((envelope) => bus.publish(envelope), PUBLISH_RETRY_DELAYS_MS),
    retryDelayMs: (attempt) => tiers[Math.min(attempt - 1, tiers.length - 1)] ?? 0,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    now: () => new Date(),
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
        { prefetch: config.prefetch },
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
  return {
    queues: queues.map((queue) => queue.name),
    async stopConsuming() {
      await Promise.all(subscriptions.map((subscription) => subscription.cancel()));
    },
    async closePools() {
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
    ...options,
    trackInFlight: (work) => platform.runtime.trackInFlight(work),
  });
  platform.runtime.onShutdown('relay consumers', () => relay.stopConsuming(), 'intake');
  platform.runtime.onShutdown('relay smtp pools', () => relay.closePools(), 'connections');
  return relay;
}
