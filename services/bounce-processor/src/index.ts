import type { Platform } from '@relais/platform';
import { createSqlBounceStore } from './adapters/sql-bounce-store';
import type { BounceSettings } from './config';
import { onDeliveryBounced } from './handlers/on-delivery-bounced';
import type { BounceLogEvent } from './log-events';
import type { BounceProcessorPorts } from './ports';

export {
  bounceConfigSchema,
  bounceSettingsSchema,
  type BounceConfig,
  type BounceSettings,
} from './config';
export { createSqlBounceStore } from './adapters/sql-bounce-store';
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

/**
 * Subscribes the bounce handler on the platform's bus (the queue is part of the topology
 * the platform declares). On shutdown the consumer stops taking work and the drain phase
 * waits for the transactions in flight.
 */
export async function startBounceProcessor(
  platform: Platform,
  config: StartBounceProcessorConfig,
): Promise<void> {
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
}
