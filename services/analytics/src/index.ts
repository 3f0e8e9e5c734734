import type { Handler } from '@relais/bus';
import type { Envelope, MessageType } from '@relais/domain';
import type { Platform } from '@relais/platform';
import { createSqlAnalyticsStore } from './adapters/sql-analytics-store';
import { createSqlUnsubscribeStore } from './adapters/sql-unsubscribe-store';
import { oneClickUnsubscribe } from './handlers/one-click-unsubscribe';
import { startTracking } from './tracking';
import { analyticsApi } from './api';
import { dashboardPage } from './handlers/dashboard-page';
import type { AnalyticsSettings } from './config';
import { acknowledge } from './handlers/acknowledge';
import { completeCampaigns } from './handlers/complete-campaigns';
import { tripBreakers } from './handlers/trip-breakers';
import { createSqlBreakerStore } from './adapters/sql-breaker-store';
import { onDeliveryBounced } from './handlers/on-delivery-bounced';
import { onDeliveryDeferred } from './handlers/on-delivery-deferred';
import { onDeliveryDelivered } from './handlers/on-delivery-delivered';
import { onDeliveryExpired } from './handlers/on-delivery-expired';
import { createKpiBatcher, createOutcomeBatcher } from './outcome-batcher';
import { createSqlKpiStore } from './adapters/sql-kpi-store';
import { startEventShipper } from './adapters/elasticsearch-client';
import { withKpis } from './handlers/record-kpis';
import type { AnalyticsLogEvent } from './log-events';
import type { AnalyticsPorts } from './ports';

export {
  analyticsConfigSchema,
  analyticsSettingsSchema,
  type AnalyticsConfig,
  type AnalyticsSettings,
} from './config';
export { ANALYTICS_API_INFO, analyticsApi, analyticsOpenApi, analyticsRoutes } from './api';
export { createSqlAnalyticsStore } from './adapters/sql-analytics-store';
export { createSqlUnsubscribeStore } from './adapters/sql-unsubscribe-store';
export { oneClickUnsubscribe, type UnsubscribeDeps } from './handlers/one-click-unsubscribe';
export { createSqlEngagementStore } from './adapters/sql-engagement-store';
export { createSqlDashboardStore } from './adapters/sql-dashboard-store';
export { DASHBOARD_ASSETS, dashboardPage } from './handlers/dashboard-page';
export { dashboardView, providerHealth } from './handlers/get-dashboard';
export type * from './dashboard-ports';
export { trackingRoutes, type TrackingDeps } from './handlers/tracking-routes';
export {
  KNOWN_AGENTS,
  classifyClick,
  classifyOpen,
  type EngagementReason,
  type EngagementVerdict,
} from './domain/machine-detection';
export type * from './engagement-ports';
export { createOutcomeBatcher, type OutcomeBatcher } from './outcome-batcher';
export { createSqlBreakerStore, BREAKER_BUCKET_MS } from './adapters/sql-breaker-store';
export { tripBreakers, type BreakerSweepPorts } from './handlers/trip-breakers';
export {
  evaluateBreakers,
  normalQuantile,
  tripReason,
  wilsonLowerBound,
  type BreakerEvidence,
  type BreakerMetric,
  type BreakerRule,
  type BreakerSettings,
  type BreakerTrip,
  type SliceScope,
  type SlicePause,
  type WindowCounts,
} from './domain/breakers';
export type * from './breaker-ports';
export { campaignStatsView } from './handlers/get-campaign-stats';
export {
  completeCampaigns,
  onDeliveryBounced,
  onDeliveryDeferred,
  onDeliveryDelivered,
  onDeliveryExpired,
};
export {
  COUNTERS,
  counterShard,
  outcomeOf,
  type Counter,
  type DeliveryEvent,
  type DeliveryEventType,
  type Outcome,
} from './domain/outcomes';
export { MESSAGE_STATES, campaignFigures, type MessageState } from './domain/stats';
export { ANALYTICS_LOG_EVENTS, type AnalyticsLogEvent } from './log-events';
export type * from './ports';

/** The queue (under the platform namespace) bound to every event and every `campaign.*`. */
export function analyticsQueue(namespace: string): string {
  return `${namespace}.analytics.events`;
}

/**
 * Starts analytics on a platform: the event consumer, the completion sweep and the stats
 * API on `/v1` of the platform's HTTP app. Call it BEFORE `startCampaign` on the same
 * platform: the campaign router answers 404 for every path it does not know.
 *
 * Every type that can reach the queue has a handler (one without would be dead-lettered).
 * On shutdown the consumer stops taking work and the sweep timer stops; a running sweep
 * and running handlers are waited for in the drain phase.
 */
export async function startAnalytics(
  platform: Platform,
  settings: AnalyticsSettings & { namespace: string },
): Promise<void> {
  const { runtime, logger } = platform;
  const store = createSqlAnalyticsStore(platform.store);
  runtime.app.use(
    '/v1',
    analyticsApi({
      store: platform.store,
      logger,
      attributionWindowMs: settings.tracking.attributionWindow,
    }),
  );
  // The web dashboard: static files; its data comes from GET /v1/dashboard above.
  runtime.app.use('/dashboard', dashboardPage());
  startTracking(platform, settings);
  if (settings.unsubscribeSecret !== undefined) {
    runtime.app.use(
      oneClickUnsubscribe({
        store: createSqlUnsubscribeStore(platform.store),
        secrets: [settings.unsubscribeSecret, ...settings.unsubscribePreviousSecrets],
        logger,
      }),
    );
  }

  const queue = analyticsQueue(settings.namespace);
  const shipper = startEventShipper(platform, settings.elasticsearch);
  // The inbox consumer is the queue name, as the bus's store-backed dedupe recorded it.
  const outcomes = createOutcomeBatcher({ store, consumer: queue, batchSize: settings.batchSize });
  // Events no delivery batch carries are counted into the KPI slices by their own batcher,
  // claiming their envelopes as `<queue>:kpi` so any other handler of the type stays free
  // to claim them for itself.
  const kpis = createKpiBatcher({
    store: createSqlKpiStore(platform.store),
    consumer: `${queue}:kpi`,
    batchSize: settings.batchSize,
  });
  const base: Omit<AnalyticsPorts, 'logger'> = {
    store,
    outcomes,
    counterShards: settings.counterShards,
  };
  const run =
    <T extends MessageType>(
      handler: (envelope: Envelope<T>, ports: AnalyticsPorts) => Promise<void>,
    ): Handler<T> =>
    (envelope, { logger: messageLogger }) =>
      runtime.trackInFlight(
        handler(envelope, { ...base, logger: messageLogger }).then(() => shipper?.ship(envelope)),
      );
  const subscription = await platform.bus.subscribe(
    queue,
    {
      'delivery.delivered': run(onDeliveryDelivered),
      'delivery.deferred': run(onDeliveryDeferred),
      'delivery.bounced': run(onDeliveryBounced),
      'delivery.expired': run(onDeliveryExpired),
      'complaint.received': run(withKpis(acknowledge, kpis)),
      'suppression.added': run(withKpis(acknowledge, kpis)),
      'engagement.opened': run(withKpis(acknowledge, kpis)),
      'engagement.clicked': run(withKpis(acknowledge, kpis)),
      'engagement.unsubscribed': run(withKpis(acknowledge, kpis)),
      'engagement.converted': run(withKpis(acknowledge, kpis)),
      'campaign.launched': run(acknowledge),
      'campaign.paused': run(acknowledge),
      'campaign.resumed': run(acknowledge),
      'campaign.cancelled': run(acknowledge),
      'campaign.completed': run(acknowledge),
      // The breaker's own command, for the campaign service; analytics only acks it.
      'campaign.pause': run(acknowledge),
    },
    // Delivery events claim their envelope ids in their batch's transaction; the other
    // types do nothing, so a redelivery of one is harmless.
    { prefetch: settings.prefetch, consumerName: queue, dedupe: 'handler' },
  );
  runtime.onShutdown('analytics consumer', () => subscription.cancel(), 'intake');
  // The handlers waiting on a batch are tracked in flight; this leaves no immediate behind.
  runtime.onShutdown('analytics outcome batcher', () => outcomes.close(), 'drain');
  runtime.onShutdown('analytics KPI batcher', () => kpis.close(), 'drain');

  let sweeping: Promise<unknown> | undefined;
  const tick = () => {
    if (sweeping || runtime.stopping) return;
    sweeping = runtime
      .trackInFlight(completeCampaigns({ store, logger }))
      .catch((error: unknown) => {
        logger.warn(
          { 'event.action': 'analytics.completion_failed' satisfies AnalyticsLogEvent, err: error },
          'completion sweep failed; retrying next tick',
        );
      })
      .finally(() => {
        sweeping = undefined;
      });
  };
  const timer = setInterval(tick, settings.completionInterval);
  timer.unref();
  runtime.onShutdown(
    'analytics completion sweep',
    async () => {
      clearInterval(timer);
      await sweeping;
    },
    'intake',
  );
  if (settings.breakers.enabled) startBreakerSweep(platform, settings.breakers);
}

/**
 * The circuit breakers' sweep: every `interval`, on whichever replica takes the sweep lock,
 * the window is read from the store (never from this replica's memory, which sees only its
 * share of the events) and tripped slices are paused through `campaign.pause` commands.
 */
function startBreakerSweep(platform: Platform, settings: AnalyticsSettings['breakers']): void {
  const { runtime, logger } = platform;
  const ports = {
    breakers: createSqlBreakerStore(platform.store),
    settings: {
      windowMs: settings.window,
      fastWindowMs: settings.fastWindow,
      confidence: settings.confidence,
      bounceRate: settings.bounceRate,
      complaintRate: settings.complaintRate,
      pools: settings.pools,
    },
    now: () => new Date(),
    logger,
    requested: new Map<string, number>(),
    // Long enough for the command to reach the campaign service and its pause to be read.
    requestHoldMs: Math.max(30_000, 3 * settings.interval),
  };
  let sweeping: Promise<unknown> | undefined;
  const tick = () => {
    if (sweeping || runtime.stopping) return;
    sweeping = runtime
      .trackInFlight(tripBreakers(ports))
      .catch((error: unknown) => {
        logger.warn(
          {
            'event.action': 'analytics.breaker_sweep_failed' satisfies AnalyticsLogEvent,
            err: error,
          },
          'breaker sweep failed; retrying next tick',
        );
      })
      .finally(() => {
        sweeping = undefined;
      });
  };
  const timer = setInterval(tick, settings.interval);
  timer.unref();
  runtime.onShutdown(
    'analytics breaker sweep',
    async () => {
      clearInterval(timer);
      await sweeping;
    },
    'intake',
  );
}
