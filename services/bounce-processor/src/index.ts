import { RelaisError } from '@relais/domain';
import type { Platform } from '@relais/platform';
import { createInboundSmtpListener } from './adapters/inbound-smtp';
import { createSqlBounceStore } from './adapters/sql-bounce-store';
import { createSqlInboundStore } from './adapters/sql-inbound-store';
import type { BounceSettings } from './config';
import { onDeliveryBounced } from './handlers/on-delivery-bounced';
import type { BounceLogEvent } from './log-events';
import type { BounceProcessorPorts } from './ports';

export {
  bounceConfigSchema,
  bounceSettingsSchema,
  inboundSettingsSchema,
  type BounceConfig,
  type BounceSettings,
  type InboundSettings,
} from './config';
export { createSqlBounceStore } from './adapters/sql-bounce-store';
export { createSqlInboundStore } from './adapters/sql-inbound-store';
export {
  bareLineEnding,
  countReceived,
  createInboundSmtpListener,
  type InboundSmtpListener,
  type InboundSmtpOptions,
} from './adapters/inbound-smtp';
export { onDeliveryBounced };
export { bounceVerdict, MAX_DIAGNOSTIC_CHARS, type BounceVerdict } from './domain/bounce-verdict';
export { BOUNCE_LOG_EVENTS, type BounceLogEvent } from './log-events';
export type * from './ports';

/** The queue (under the platform namespace) that receives every `delivery.bounced` event. */
export function bounceQueue(namespace: string): string {
  return `${namespace}.bounce.events`;
}

/** What `startBounceProcessor` needs besides the platform: its settings and the namespace. */
export type StartBounceProcessorConfig = BounceSettings & { namespace: string };

/** What `startBounceProcessor` started that the caller may want to know. */
export interface BounceProcessorHandle {
  /** The inbound SMTP listener's bound port, when it is enabled. */
  inboundPort?: number;
}

/**
 * Subscribes the bounce handler on the platform's bus (the queue is part of the topology
 * the platform declares), and starts the inbound SMTP listener when `inbound.enabled`. On
 * shutdown the consumer and the listener stop taking work in the intake phase and the drain
 * phase waits for the transactions in flight.
 */
export async function startBounceProcessor(
  platform: Platform,
  config: StartBounceProcessorConfig,
): Promise<BounceProcessorHandle> {
  const bounces = createSqlBounceStore(platform.store);
  const queue = bounceQueue(config.namespace);
  const subscription = await platform.bus.subscribe(
    queue,
    {
      'delivery.bounced': (envelope, { logger }) =>
        platform.runtime.trackInFlight(
          onDeliveryBounced(envelope, { bounces, logger } satisfies BounceProcessorPorts),
        ),
    },
    { prefetch: config.prefetch },
  );
  platform.runtime.onShutdown('bounce consumer', () => subscription.cancel(), 'intake');
  platform.logger.info(
    {
      'event.action': 'bounce.consumer_started' satisfies BounceLogEvent,
      relais: { queue },
    },
    'bounce processor consuming',
  );
  if (!config.inbound.enabled) return {};
  if (config.bounceSecret === undefined) {
    throw new RelaisError('CONFIG_INVALID', 'the inbound listener needs bounceSecret');
  }
  const listener = createInboundSmtpListener({
    settings: config.inbound,
    secrets: config.bounceSecret,
    sink: createSqlInboundStore(platform.store),
    logger: platform.logger,
  });
  const inboundPort = await listener.listen();
  platform.runtime.onShutdown('inbound smtp', () => listener.close(), 'intake');
  return { inboundPort };
}
