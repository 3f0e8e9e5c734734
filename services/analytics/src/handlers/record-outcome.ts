import type { Envelope } from '@relais/domain';
import { counterShard, outcomeOf, type DeliveryEvent } from '../domain/outcomes';
import { kpiRuleOf } from '../kpi/metrics';
import type { AnalyticsLogEvent } from '../log-events';
import type { AnalyticsPorts } from '../ports';

/**
 * What every delivery event does: hands its outcome to the batcher, which claims the
 * envelope, moves the message (if the event is not stale) and counts it in one transaction
 * with the other events of its batch, and resolves once that committed. Duplicates and
 * out-of-order events are expected and harmless, so they are not logged; a message nobody
 * knows is worth one line.
 */
export async function recordOutcome(
  envelope: Pick<Envelope, 'id' | 'tenantId' | 'occurredAt'>,
  event: DeliveryEvent,
  ports: AnalyticsPorts,
): Promise<void> {
  const outcome = outcomeOf(event);
  const shard = counterShard(outcome.messageId, ports.counterShards);
  const rule = kpiRuleOf(event.type, event.data);
  const result = await ports.outcomes.record({
    envelopeId: envelope.id,
    tenantId: envelope.tenantId,
    outcome,
    shard,
    ...(rule && {
      kpi: {
        fact: {
          tenantId: envelope.tenantId,
          messageId: rule.messageId,
          occurredAt: new Date(envelope.occurredAt),
          shard,
          always: rule.always,
          once: rule.once,
          ...(rule.route && { route: rule.route }),
        },
        onTransition: rule.onTransition,
      },
    }),
  });
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
