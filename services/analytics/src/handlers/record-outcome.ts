import type { TenantId } from '@relais/domain';
import { counterShard, outcomeOf, type DeliveryEvent } from '../domain/outcomes';
import type { AnalyticsLogEvent } from '../log-events';
import type { AnalyticsPorts } from '../ports';

/**
 * What every delivery event does: one transaction that moves the message (if the event is
 * not stale) and counts it. Duplicates and out-of-order events are expected and harmless,
 * so they are not logged; a message nobody knows is worth one line.
 */
export async function recordOutcome(
  tenantId: TenantId,
  event: DeliveryEvent,
  ports: AnalyticsPorts,
): Promise<void> {
  const outcome = outcomeOf(event);
  const shard = counterShard(outcome.messageId, ports.counterShards);
  const result = await ports.store.recordOutcome(tenantId, outcome, shard);
  if (result.kind === 'unknown') {
    ports.logger.info(
      {
        'event.action': 'analytics.outcome_unknown_message' satisfies AnalyticsLogEvent,
        relais: { message_id: outcome.messageId, state: outcome.state },
      },
      'delivery event for an unknown message',
    );
  }
}
