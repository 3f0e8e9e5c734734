import type { Envelope } from '@relais/domain';
import type { AnalyticsPorts } from '../ports';
import { recordOutcome } from './record-outcome';

/** Moves the message to `expired` when it may still move, and counts it. */
export async function onDeliveryExpired(
  envelope: Envelope<'delivery.expired'>,
  ports: AnalyticsPorts,
): Promise<void> {
  await recordOutcome(envelope, { type: envelope.type, data: envelope.data }, ports);
}
