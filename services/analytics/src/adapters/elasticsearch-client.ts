import { Client } from '@elastic/elasticsearch';
import type { Platform } from '@relais/platform';
import type { AnalyticsSettings } from '../config';
import { eventsDataStream } from '../elasticsearch/templates';
import { installElasticsearchAssets } from './elasticsearch-install';
import { createElasticsearchShipper, type EventShipper } from './elasticsearch-shipper';

/**
 * The event shipper of a process whose settings name an Elasticsearch, undefined otherwise.
 * The client never retries by itself (`maxRetries: 0`): the shipper's backoff does, without
 * holding a request open. Closed in the drain phase, after the consumer stopped.
 */
export function startEventShipper(
  platform: Platform,
  settings: AnalyticsSettings['elasticsearch'],
): EventShipper | undefined {
  if (settings === undefined) return undefined;
  const { logger, runtime } = platform;
  const client = new Client({
    node: settings.url,
    maxRetries: 0,
    requestTimeout: settings.requestTimeout,
  });
  const shipper = createElasticsearchShipper({
    client,
    dataStream: eventsDataStream(settings.namespace),
    batchSize: settings.batchSize,
    flushIntervalMs: settings.flushInterval,
    maxQueue: settings.maxQueue,
    backoff: { initialMs: 500, maxMs: settings.maxBackoff },
    logger,
    ...(settings.installTemplates && { prepare: () => installElasticsearchAssets(client, logger) }),
  });
  runtime.onShutdown(
    'analytics Elasticsearch shipper',
    async () => {
      await shipper.close();
      await client.close();
    },
    'drain',
  );
  return shipper;
}
