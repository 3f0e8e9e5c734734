import type { Envelope, MessageType } from '@relais/domain';
import { counterShard } from '../domain/outcomes';
import { kpiRuleOf } from '../kpi/metrics';
import type { KpiRecorder } from '../kpi/ports';
import type { AnalyticsPorts } from '../ports';

/** A handler of the consumer's table. */
type AnalyticsHandler<T extends MessageType> = (
  envelope: Envelope<T>,
  ports: AnalyticsPorts,
) => Promise<void>;

/**
 * Adds an event that no delivery batch carries (engagement, complaints) to its KPI slice
 * through the KPI batcher, which claims the envelope for its own consumer in the same
 * transaction: a redelivery counts nothing again, whatever the event's other handler does.
 * Types the KPIs do not read, and events naming no message, do nothing.
 */
export async function recordKpis(
  envelope: Envelope,
  kpis: KpiRecorder,
  counterShards: number,
): Promise<void> {
  const rule = kpiRuleOf(envelope.type, envelope.data);
  if (!rule) return;
  await kpis.record({
    envelopeId: envelope.id,
    fact: {
      tenantId: envelope.tenantId,
      messageId: rule.messageId,
      occurredAt: new Date(rule.occurredAt ?? envelope.occurredAt),
      shard: counterShard(rule.messageId, counterShards),
      always: rule.always,
      once: rule.once,
      ...(rule.revenue !== undefined && { revenue: rule.revenue }),
      ...(rule.retractsHumanClick && { retractsHumanClick: true }),
    },
  });
}

/**
 * The handler `handler` followed by the KPI recording of the same event. The KPIs come
 * second: when the handler fails the bus retries the event before anything was counted,
 * and when counting fails the handler has to be idempotent anyway (at-least-once bus).
 */
export function withKpis<T extends MessageType>(
  handler: AnalyticsHandler<T>,
  kpis: KpiRecorder,
): AnalyticsHandler<T> {
  return async (envelope, ports) => {
    await handler(envelope, ports);
    await recordKpis(envelope, kpis, ports.counterShards);
  };
}
