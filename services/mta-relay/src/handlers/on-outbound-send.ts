import { RelaisError, createEnvelope, type Envelope, type MessageInput } from '@relais/domain';
import { classifyReply, type DeliveryOutcome } from '../domain/classify-reply';
import { derivedUuid, recipientDomain } from '../domain/destination';
import type { SmtpReply } from '../domain/reply';
import type { RelayLogEvent } from '../log-events';
import type { RelayPorts } from '../ports';

/** The events a delivery attempt ends with. */
type OutcomeEventType =
  'delivery.delivered' | 'delivery.deferred' | 'delivery.bounced' | 'delivery.expired';

/** What the bus tells the handler about this delivery of the message. */
export interface DeliveryAttempt {
  /** Handler attempts of this envelope so far, including this one (the bus's retry count). */
  attempt: number;
}

/**
 * Sends one rendered message and publishes its outcome. The outcome event is confirmed by
 * the broker before this returns, and the bus acks the message only after a return: a crash
 * in between re-sends the message (at-least-once), it never loses the outcome.
 *
 * A deferral publishes `delivery.deferred`, then throws a retryable error so the bus's
 * delay tiers bring the same envelope back (its `attempt` grows on the bus, not in the
 * data). That keeps one copy of the message in the broker at all times, which re-publishing
 * a new `outbound.send` and acking the old one could not guarantee without a transaction.
 */
export async function onOutboundSend(
  envelope: Envelope<'outbound.send'>,
  ports: RelayPorts,
  delivery: DeliveryAttempt,
): Promise<void> {
  const { data } = envelope;
  const domain = recipientDomain(data.rcptTo);
  const attempt = data.attempt + delivery.attempt - 1;
  const { reply, outcome } = await attemptDelivery(envelope, domain, ports);
  // One instant for the event and its retryAt, so `retryAt - occurredAt` is the delay.
  const settledAt = ports.now();
  const base = {
    messageId: data.messageId,
    ...(data.campaignId === undefined ? {} : { campaignId: data.campaignId }),
    recipientDomain: domain,
    pool: data.pool,
    attempt,
    reply,
  };
  const event = <T extends OutcomeEventType>(
    type: T,
    extra: Omit<MessageInput<T>, keyof typeof base>,
  ): Envelope<T> =>
    createEnvelope({
      type,
      // Same attempt, same id: a re-run after a lost ack is deduped downstream.
      id: derivedUuid(envelope.id, type, String(attempt)),
      tenantId: envelope.tenantId,
      traceparent: envelope.traceparent,
      occurredAt: settledAt,
      data: { ...base, ...extra } as MessageInput<T>,
    });

  switch (outcome.kind) {
    case 'delivered':
      await ports.publish(event('delivery.delivered', {}));
      return;
    case 'bounced':
      await ports.publish(
        event('delivery.bounced', {
          reason: outcome.reason,
          hard: outcome.hard,
          confidence: outcome.confidence,
        }),
      );
      return;
    case 'deferred': {
      if (delivery.attempt >= ports.maxAttempts) {
        // The bus would dead-letter the next failure; expiring here keeps the final state
        // an event that analytics and campaigns understand.
        await ports.publish(event('delivery.expired', {}));
        return;
      }
      const retryAt = new Date(settledAt.getTime() + ports.retryDelayMs(delivery.attempt));
      await ports.publish(
        event('delivery.deferred', { retryAt: retryAt.toISOString(), reason: outcome.reason }),
      );
      throw new RelaisError('HANDLER_FAILED', 'delivery deferred; the bus retries after a delay', {
        retryable: true,
        details: { reason: outcome.reason, attempt, replyCode: reply.code ?? null },
      });
    }
    default:
      return outcome satisfies never;
  }
}

/** Resolves the destination and talks SMTP; every failure becomes a reply and an outcome. */
async function attemptDelivery(
  envelope: Envelope<'outbound.send'>,
  domain: string,
  ports: RelayPorts,
): Promise<{ reply: SmtpReply; outcome: DeliveryOutcome }> {
  let routing;
  try {
    routing = await ports.destinations.resolve(domain);
  } catch (error) {
    ports.logger.warn(
      {
        err: error,
        'event.action': 'relay.destination_unresolved' satisfies RelayLogEvent,
        relais: { recipient_domain: domain, message_id: envelope.data.messageId },
      },
      'recipient domain could not be resolved',
    );
    const reply: SmtpReply = { text: 'DNS lookup of the recipient domain failed' };
    return { reply, outcome: classifyReply(reply) };
  }
  if (routing.kind === 'no-mail') {
    // RFC 7505 §4.1: a sender should fail a message to a null-MX domain at once.
    const reply: SmtpReply = {
      code: 556,
      enhanced: '5.1.10',
      text: '556 5.1.10 recipient domain accepts no mail (null MX)',
    };
    return { reply, outcome: classifyReply(reply) };
  }
  if (routing.kind === 'unroutable') {
    // Worded as the relay-denied refusal it is: soft, so the address is never suppressed
    // for a limit of this relay's configuration.
    const reply: SmtpReply = {
      code: 550,
      enhanced: '5.7.1',
      text: '550 5.7.1 relaying denied: no static route for this domain and MX lookup is off',
    };
    return { reply, outcome: classifyReply(reply) };
  }
  const reply = await ports.smtp.send(routing.destination, {
    mailFrom: envelope.data.mailFrom,
    rcptTo: envelope.data.rcptTo,
    raw: Buffer.from(envelope.data.rawBase64, 'base64'),
  });
  return { reply, outcome: classifyReply(reply) };
}
