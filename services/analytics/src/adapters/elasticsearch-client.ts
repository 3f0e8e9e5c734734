import { Client } from '@elastic/elasticsearch';
import type { Platform } from '@relais/platform';
import { Gauge } from '@relais/telemetry';
import type { AnalyticsSettings } from '../config';
import { eventsDataStream } from '../elasticsearch/templates';
import { installElasticsearchAssets } from './elasticsearch-install';
import { createElasticsearchShipper, type EventShipper } from './elasticsearch-shipper';

/**
 * The event shipper of a process whose settings name an Elasticsearch, undefined otherwise.
 * The client never retries by itself (`maxRetries: 0`): the shipper's backoff does, without
 * holding a request open. Closed once the in-flight handlers finished (connections phase).
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
  // Read from the shipper at each scrape: what waits, and what was shipped, dropped, refused.
  new Gauge({
    name: 'relais_analytics_elasticsearch_events',
    help: 'Events for Elasticsearch by state: queued now; shipped, dropped (queue full), rejected (refused for good) and failed_requests since start',
    labelNames: ['state'],
    registers: [platform.metrics],
    collect() {
      const stats: Record<string, number> = shipper.stats();
      for (const [state, value] of Object.entries(stats)) this.set({ state }, value);
    },
  });
  runtime.onShutdown(
    'analytics Elasticsearch shipper',
    async () => {
      await shipper.close();
      await client.close();
    },
    // After the drain phase: the handlers still running then ship their events first.
    'connections',
  );
  return shipper;
}
