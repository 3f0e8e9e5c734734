import type { Logger } from '@relais/telemetry';
import type { BreakerStore } from '../breaker-ports';
import { evaluateBreakers, type BreakerSettings, type BreakerTrip } from '../domain/breakers';
import type { AnalyticsLogEvent } from '../log-events';

/** Buckets are kept this long past the window, so a late sweep still sees a whole window. */
const PRUNE_MARGIN_MS = 60_000;

/** What one sweep needs. */
export interface BreakerSweepPorts {
  breakers: BreakerStore;
  settings: BreakerSettings;
  now: () => Date;
  logger: Logger;
  /**
   * Slices this process asked to pause recently (key → epoch ms): the campaign service
   * records a pause a moment after the command, and the next sweeps must not repeat it.
   */
  requested: Map<string, number>;
  /** How long a request stands before the slice may be asked for again. */
  requestHoldMs: number;
}

const keyOf = (trip: BreakerTrip): string =>
  `${trip.campaignId} ${trip.scope.provider ?? ''} ${trip.scope.pool ?? ''}`;

/**
 * One breaker sweep, on whichever replica holds the sweep lock: reads the sliding window of
 * every sending campaign and its pauses, decides which slices trip, and sends one
 * `campaign.pause` command per new trip through the outbox in the same transaction.
 * Returns the trips sent (none when another replica is sweeping).
 */
export async function tripBreakers(ports: BreakerSweepPorts): Promise<BreakerTrip[]> {
  const now = ports.now();
  const nowMs = now.getTime();
  for (const [key, at] of ports.requested) {
    if (nowMs - at > ports.requestHoldMs) ports.requested.delete(key);
  }
  const since = new Date(nowMs - ports.settings.windowMs);
  const sent = await ports.breakers.withSweepLock(async (view) => {
    const rows = await view.window(since);
    const campaigns = [...new Set(rows.map((row) => row.campaignId))];
    const pauses = await view.pauses(campaigns, since);
    const trips = evaluateBreakers({ rows, pauses, now, settings: ports.settings }).filter(
      (trip) => !ports.requested.has(keyOf(trip)),
    );
    await view.requestPauses(trips);
    await view.prune(new Date(since.getTime() - PRUNE_MARGIN_MS));
    return trips;
  });
  for (const trip of sent ?? []) {
    ports.requested.set(keyOf(trip), nowMs);
    ports.logger.warn(
      {
        'event.action': 'analytics.breaker_tripped' satisfies AnalyticsLogEvent,
        relais: {
          tenant_id: trip.tenantId,
          campaign_id: trip.campaignId,
          provider: trip.scope.provider,
          pool: trip.scope.pool,
          metric: trip.metric,
          rate: trip.evidence.rate,
          lower_bound: trip.evidence.lowerBound,
          sample: trip.evidence.sample,
        },
      },
      'circuit breaker tripped; pause requested',
    );
  }
  return sent ?? [];
}
