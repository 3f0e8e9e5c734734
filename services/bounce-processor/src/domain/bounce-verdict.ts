import { classifySmtpReply } from '@relais/bounces';
import type { Envelope } from '@relais/domain';
import type { BounceRecord, BouncedMessage, SuppressionRequest } from '../ports';

/** `bounces.diagnostic` keeps this much of the reply: enough to read, small in the table. */
export const MAX_DIAGNOSTIC_CHARS = 1000;

/** The `suppression.added` schema caps its reason at this length. */
const MAX_SUPPRESSION_REASON_CHARS = 200;

/** What a bounce event means: the row to record and, for a hard bounce, the suppression. */
export interface BounceVerdict {
  record: BounceRecord;
  suppression?: SuppressionRequest;
}

/**
 * Re-classifies the reply of a `delivery.bounced` event against the message it names. The
 * event's own `reason`/`hard` are the relay's view when it sent; this classification is the
 * one recorded, so rules fixed later apply to every bounce processed from then on.
 */
export function bounceVerdict(
  envelope: Envelope<'delivery.bounced'>,
  message: BouncedMessage,
): BounceVerdict {
  const reply = envelope.data.reply ?? { text: envelope.data.reason };
  const { reason, hard, confidence, status } = classifySmtpReply(reply);
  const record: BounceRecord = {
    id: envelope.id,
    tenantId: message.tenantId,
    messageId: message.id,
    campaignId: message.campaignId,
    email: message.email,
    source: 'smtp',
    reason,
    hard,
    confidence,
    status: status ?? null,
    replyCode: reply.code ?? null,
    diagnostic: reply.text.slice(0, MAX_DIAGNOSTIC_CHARS),
  };
  if (!hard) return { record };
  return { record, suppression: hardBounceSuppression(record, envelope.traceparent) };
}

/** The suppression a hard bounce asks for, whichever path reported the bounce. */
export function hardBounceSuppression(
  record: BounceRecord,
  traceparent: string | null,
): SuppressionRequest {
  const { reason, status } = record;
  const why = status === null ? `hard bounce: ${reason}` : `hard bounce: ${reason} ${status}`;
  return {
    tenantId: record.tenantId,
    email: record.email,
    reason: why.slice(0, MAX_SUPPRESSION_REASON_CHARS),
    class: reason,
    confidence: record.confidence,
    traceparent,
  };
}
