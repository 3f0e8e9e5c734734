import type { Envelope } from '@relais/domain';
import type { AnalyticsPorts } from '../ports';
import { recordOutcome } from './record-outcome';

/** Moves the message to `bounced` when it may still move, and counts it. */
export async function onDeliveryBounced(
  envelope: Envelope<'delivery.bounced'>,
  ports: AnalyticsPorts,
): Promise<void> {
  await recordOutcome(envelope, { type: envelope.type, data: envelope.data }, ports);
}
