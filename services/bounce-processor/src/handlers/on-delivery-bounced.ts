import type { Envelope } from '@relais/domain';
import { bounceVerdict } from '../domain/bounce-verdict';
import type { BounceLogEvent } from '../log-events';
import type { BounceProcessorPorts } from '../ports';

/**
 * Records a bounce the relay reported at SMTP time and, when it is hard (or a soft bounce
 * that repeats within the store's window), suppresses the address (with `suppression.added`)
 * in the same transaction. A bounce of a message with no
 * row is acknowledged: retrying cannot make the row appear, and a dead letter per stray
 * event would bury real failures. Store errors propagate, so the bus retries.
 */
export async function onDeliveryBounced(
  envelope: Envelope<'delivery.bounced'>,
  ports: BounceProcessorPorts,
): Promise<void> {
  const { messageId } = envelope.data;
  const message = await ports.bounces.findMessage(envelope.tenantId, messageId);
  if (message === undefined) {
    ports.logger.warn(
      {
        'event.action': 'bounce.message_unknown' satisfies BounceLogEvent,
        relais: {
          message_id: messageId,
          reason: 'no message row with this id for the tenant',
        },
      },
      'bounce for an unknown message acknowledged without effect',
    );
    return;
  }

  const verdict = bounceVerdict(envelope, message);
  const outcome = await ports.bounces.recordBounce(
    verdict.record,
    verdict.suppression,
    envelope.traceparent,
  );
  switch (outcome.kind) {
    case 'recorded':
      ports.logger.debug(
        {
          'event.action': 'bounce.recorded' satisfies BounceLogEvent,
          relais: {
            message_id: messageId,
            campaign_id: message.campaignId,
            reason: verdict.record.reason,
            hard: verdict.record.hard,
            suppressed: outcome.suppressed,
          },
        },
        'bounce recorded',
      );
      return;
    case 'duplicate':
      ports.logger.debug(
        {
          'event.action': 'bounce.duplicate_ignored' satisfies BounceLogEvent,
          relais: { message_id: messageId },
        },
        'bounce already recorded',
      );
      return;
    default:
      return outcome satisfies never;
  }
}
