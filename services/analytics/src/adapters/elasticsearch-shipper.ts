import type { Client } from '@elastic/elasticsearch';
import type { Envelope } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import { toEcsDoc, type EcsEventDoc } from '../elasticsearch/ecs-event';
import type { AnalyticsLogEvent } from '../log-events';

/** What the shipper did so far (exposed for tests and `/metrics`). */
export type ShipperStats = {
  /** Documents waiting in memory. */
  queued: number;
  /** Documents Elasticsearch accepted (a duplicate `create`, 409, counts as accepted). */
  shipped: number;
  /** Oldest documents dropped because the queue was full while Elasticsearch was away. */
  dropped: number;
  /** Documents Elasticsearch refused for good (mapping errors…): never retried. */
  rejected: number;
  /** Bulk requests that failed as a whole (and were retried). */
  failedRequests: number;
};

/** Ships events to Elasticsearch without ever making their consumer wait. */
export interface EventShipper {
  /** Queues the event's document and returns at once; never throws. */
  ship(envelope: Envelope): void;
  stats(): ShipperStats;
  /** Stops the timers and makes one last attempt at what is queued (logged if lost). */
  close(): Promise<void>;
}

export interface ShipperOptions {
  client: Client;
  /** The data stream documents are created in (`relais-events-<namespace>`). */
  dataStream: string;
  /** Most documents per bulk request; a full batch is sent at once. */
  batchSize: number;
  /** How long the first queued document waits for a batch to fill. */
  flushIntervalMs: number;
  /** Most documents held in memory while Elasticsearch is slow or down. */
  maxQueue: number;
  /** Retry delay after a failed request: doubled each time, jittered, capped. */
  backoff: { initialMs: number; maxMs: number };
  logger: Logger;
  /** Run (and retried like a bulk) before the first request: installs the templates. */
  prepare?: () => Promise<void>;
  /** Random source for the jitter (tests pin it). */
  random?: () => number;
}

/** Item statuses worth another try: overloaded or failing shards. */
const RETRYABLE_ITEM = (status: number) => status === 429 || status >= 500;

/**
 * Ships event documents with the `bulk` API in batches (size or time), as `create`
 * operations (data streams take nothing else) whose `_id` is the envelope id, so an
 * at-least-once redelivery shipped twice is a 409 we count as done.
 *
 * While Elasticsearch is slow or down, documents wait in memory, one request at a time
 * retried with exponential backoff; `ship` never waits and never fails, so event
 * consumption (and the mail behind it) is never held up by the search cluster. The queue is
 * bounded: past `maxQueue` the OLDEST documents are dropped and counted, and the first drop
 * of an outage is logged once. Dropping is preferred over spilling to disk because every
 * shipped fact is also in PostgreSQL (message states, KPI slices): Kibana loses detail for
 * the outage, the numbers of record do not.
 */
export function createElasticsearchShipper(options: ShipperOptions): EventShipper {
  const { client, dataStream, batchSize, flushIntervalMs, maxQueue, backoff, logger } = options;
  const random = options.random ?? Math.random;
  const queue: EcsEventDoc[] = [];
  const stats = { shipped: 0, dropped: 0, rejected: 0, failedRequests: 0 };
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let retrying = false;
  let running: Promise<void> | undefined;
  let prepared = options.prepare === undefined;
  let failures = 0;
  let overflowLogged = false;
  let closed = false;

  const trim = () => {
    const excess = queue.length - maxQueue;
    if (excess <= 0) return;
    queue.splice(0, excess);
    stats.dropped += excess;
    if (!overflowLogged) {
      overflowLogged = true;
      logger.warn(
        {
          'event.action': 'analytics.elasticsearch_queue_full' satisfies AnalyticsLogEvent,
          relais: { max_queue: maxQueue },
        },
        'Elasticsearch queue full; dropping the oldest events until it drains',
      );
    }
  };

  const schedule = () => {
    if (closed || running || retrying || queue.length === 0) return;
    if (queue.length >= batchSize) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      immediate ??= setImmediate(start);
    } else if (!timer && !immediate) {
      timer = setTimeout(start, flushIntervalMs);
      timer.unref();
    }
  };

  const start = () => {
    timer = undefined;
    immediate = undefined;
    retrying = false;
    if (running || queue.length === 0) return;
    running = flush().finally(() => {
      running = undefined;
      schedule();
    });
  };

  const flush = async (): Promise<void> => {
    const batch = queue.splice(0, batchSize);
    try {
      if (!prepared) {
        await options.prepare!();
        prepared = true;
      }
      const operations = batch.flatMap((doc) => [
        { create: { _index: dataStream, _id: doc.event.id } },
        doc,
      ]);
      const response = await client.bulk({ operations });
      const retry: EcsEventDoc[] = [];
      let firstRefusal: string | undefined;
      response.items.forEach((item, index) => {
        const result = item.create ?? Object.values(item)[0];
        const status = result?.status ?? 500;
        if (status < 300 || status === 409) stats.shipped += 1;
        else if (RETRYABLE_ITEM(status)) retry.push(batch[index]!);
        else {
          stats.rejected += 1;
          firstRefusal ??= result?.error?.type ?? String(status);
        }
      });
      if (firstRefusal !== undefined) {
        logger.warn(
          {
            'event.action': 'analytics.elasticsearch_rejected' satisfies AnalyticsLogEvent,
            error: { type: firstRefusal },
          },
          'Elasticsearch refused events for good; they are not retried',
        );
      }
      if (failures > 0) {
        logger.info(
          {
            'event.action': 'analytics.elasticsearch_recovered' satisfies AnalyticsLogEvent,
            relais: { failed_requests: failures, dropped: stats.dropped, queued: queue.length },
          },
          'Elasticsearch answers again; shipping the backlog',
        );
      }
      failures = 0;
      overflowLogged = false;
      if (retry.length > 0) {
        queue.unshift(...retry);
        trim();
      }
    } catch (error) {
      stats.failedRequests += 1;
      failures += 1;
      queue.unshift(...batch);
      trim();
      if (failures === 1) {
        logger.warn(
          {
            'event.action': 'analytics.elasticsearch_unavailable' satisfies AnalyticsLogEvent,
            err: error,
          },
          'Elasticsearch request failed; events are kept in memory and retried',
        );
      }
      if (closed) return;
      const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
      // Full jitter between half and all of the ceiling: replicas do not retry in step.
      const delay = ceiling / 2 + (random() * ceiling) / 2;
      retrying = true;
      timer = setTimeout(start, delay);
      timer.unref();
    }
  };

  return {
    ship(envelope) {
      if (closed) return;
      const doc = toEcsDoc(envelope);
      if (doc === undefined) return;
      queue.push(doc);
      trim();
      schedule();
    },
    stats: () => ({ queued: queue.length, ...stats }),
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      timer = undefined;
      immediate = undefined;
      await running;
      // One last attempt per batch while Elasticsearch answers; what is left is lost.
      while (queue.length > 0 && failures === 0) {
        const before = queue.length;
        await flush();
        if (queue.length >= before) break;
      }
      if (queue.length > 0) {
        logger.warn(
          {
            'event.action': 'analytics.elasticsearch_lost_on_close' satisfies AnalyticsLogEvent,
            relais: { queued: queue.length },
          },
          'events still queued for Elasticsearch at shutdown were not shipped',
        );
      }
    },
  };
}
