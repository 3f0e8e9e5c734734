import { DelayedRetry } from '@relais/bus';
import { createEnvelope, type Envelope, type MessageInput } from '@relais/domain';
import { classifyReply, type DeliveryOutcome } from '../domain/classify-reply';
import { derivedUuid, recipientDomain, type Destination } from '../domain/destination';
import type { SmtpReply } from '../domain/reply';
import {
  classifyDeferral,
  deferralDelayMs,
  isPastMaxAge,
  type SmtpCommand,
} from '../domain/retry-policy';
import { isThrottleReply, siteOf, type Site } from '../domain/sites';
import type { ThrottleFeedback } from '../domain/throttle-controller';
import type { RelayLogEvent } from '../log-events';
import type { RelayPorts } from '../ports';

/** The events a delivery attempt ends with. */
type OutcomeEventType =
  'delivery.delivered' | 'delivery.deferred' | 'delivery.bounced' | 'delivery.expired';

/** How long a held message of a paused slice waits before it is checked again, by default. */
const DEFAULT_PAUSED_RECHECK_MS = 20_000;

/** What the bus tells the handler about this delivery of the message. */
export interface DeliveryAttempt {
  /** Handler attempts of this envelope so far, including this one (the bus's retry count). */
  attempt: number;
}

/** What one attempt came to, before events are published. */
type Attempt =
  | {
      kind: 'settled';
      reply: SmtpReply;
      outcome: DeliveryOutcome;
      command?: SmtpCommand;
      site?: Site;
      throttled: boolean;
    }
  /** The site had no room soon: back to the bus without an SMTP attempt. */
  | { kind: 'postponed'; site: Site; retryAfterMs: number }
  /** Every source of the pool reached its warm-up cap today: back at the next UTC day. */
  | { kind: 'capped'; retryAfterMs: number };

/**
 * Sends one rendered message and publishes its outcome. The outcome event is confirmed by
 * the broker before this returns, and the bus acks the message only after a return: a crash
 * in between re-sends the message (at-least-once), it never loses the outcome.
 *
 * A deferral publishes `delivery.deferred`, then throws a `DelayedRetry` with the delay its
 * classified reason calls for, so the bus brings the same envelope back (its `attempt` grows
 * on the bus, not in the data). That keeps one copy of the message in the broker at all
 * times, which re-publishing a new `outbound.send` and acking the old one could not guarantee
 * without a transaction. A message whose site has no room soon is postponed the same way
 * without an attempt, an event, or using up one of its attempts, and so is a message of a
 * campaign slice a circuit breaker paused (held until the slice is resumed).
 */
export async function onOutboundSend(
  envelope: Envelope<'outbound.send'>,
  ports: RelayPorts,
  delivery: DeliveryAttempt,
): Promise<void> {
  const { data } = envelope;
  const domain = recipientDomain(data.rcptTo);
  const attempt = data.attempt + delivery.attempt - 1;
  const held = ports.pauses?.holding({
    campaignId: data.campaignId,
    recipientDomain: domain,
    pool: data.pool,
  });
  if (held !== undefined) {
    // A paused slice is held, never bounced nor expired: the operator decides with a resume
    // (or a cancel). No attempt, no event; the bus brings the message back to check again.
    throw new DelayedRetry('HANDLER_FAILED', 'campaign slice paused; held without an attempt', {
      delayMs: ports.pausedRecheckMs ?? DEFAULT_PAUSED_RECHECK_MS,
      consumesAttempt: false,
      details: { provider: held.provider, pool: held.pool },
    });
  }
  const result = await attemptDelivery(envelope, domain, ports);
  // One instant for the event and its retryAt, so `retryAt - occurredAt` is the delay.
  const settledAt = ports.now();
  const expired = isPastMaxAge(data.firstAttemptAt, settledAt.getTime(), ports.maxMessageAgeMs);
  const reply: SmtpReply =
    result.kind === 'settled'
      ? result.reply
      : {
          text:
            result.kind === 'capped'
              ? '4.4.7 delivery time expired while the IP pool was at its warm-up cap'
              : '4.4.7 delivery time expired while the destination was throttled',
          enhanced: '4.4.7',
        };
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
    replyOverride?: SmtpReply,
  ): Envelope<T> =>
    createEnvelope({
      type,
      // Same attempt, same id: a re-run after a lost ack is deduped downstream.
      id: derivedUuid(envelope.id, type, String(attempt)),
      tenantId: envelope.tenantId,
      traceparent: envelope.traceparent,
      occurredAt: settledAt,
      data: {
        ...base,
        ...(replyOverride === undefined ? {} : { reply: replyOverride }),
        ...extra,
      } as MessageInput<T>,
    });

  if (result.kind === 'capped') {
    if (expired) {
      await ports.publish(event('delivery.expired', {}));
      return;
    }
    // Not clamped to the rate-limited delays: the caps only reopen at the next UTC day.
    throw new DelayedRetry('HANDLER_FAILED', 'IP pool at its warm-up cap; postponed to tomorrow', {
      delayMs: result.retryAfterMs,
      consumesAttempt: false,
      details: { pool: data.pool },
    });
  }
  if (result.kind === 'postponed') {
    if (expired) {
      await ports.publish(event('delivery.expired', {}));
      return;
    }
    throw new DelayedRetry(
      'HANDLER_FAILED',
      'destination site saturated; postponed without an attempt',
      {
        delayMs: Math.min(
          ports.schedules.rateLimitedMaxMs,
          Math.max(ports.schedules.rateLimitedMinMs, Math.round(result.retryAfterMs)),
        ),
        consumesAttempt: false,
        details: { site: result.site.name },
      },
    );
  }
  const { outcome } = result;
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
      if (delivery.attempt >= ports.maxAttempts || expired) {
        // RFC 3463 4.4.7: the message's delivery time expired; final, with the last reply kept
        // in the text so the cause of the expiry stays visible.
        await ports.publish(
          event('delivery.expired', {}, expired ? expiryReply(result.reply) : undefined),
        );
        return;
      }
      const verdict = classifyDeferral(result.reply, result.command, result.throttled);
      const controllerWaitMs =
        result.site === undefined ? 0 : ports.scheduler.waitMs(data.pool, result.site);
      const delayMs = deferralDelayMs(
        verdict.deferralClass,
        delivery.attempt,
        ports.schedules,
        controllerWaitMs,
      );
      const retryAt = new Date(settledAt.getTime() + delayMs);
      await ports.publish(
        event('delivery.deferred', { retryAt: retryAt.toISOString(), reason: outcome.reason }),
      );
      throw new DelayedRetry('HANDLER_FAILED', 'delivery deferred; the bus retries after a delay', {
        delayMs,
        details: {
          reason: outcome.reason,
          deferralClass: verdict.deferralClass,
          attempt,
          replyCode: result.reply.code ?? null,
        },
      });
    }
    default:
      return outcome satisfies never;
  }
}

function expiryReply(last: SmtpReply): SmtpReply {
  return {
    enhanced: '4.4.7',
    text: `4.4.7 delivery time expired; last reply: ${last.text}`.slice(0, 2000),
  };
}

/** Resolves the destination, waits for the site's turn and talks SMTP. */
async function attemptDelivery(
  envelope: Envelope<'outbound.send'>,
  domain: string,
  ports: RelayPorts,
): Promise<Attempt> {
  const settled = (reply: SmtpReply): Attempt => ({
    kind: 'settled',
    reply,
    outcome: classifyReply(reply),
    throttled: false,
  });
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
    return settled({ text: 'DNS lookup of the recipient domain failed' });
  }
  if (routing.kind === 'no-mail') {
    // RFC 7505 §4.1: a sender should fail a message to a null-MX domain at once.
    return settled({
      code: 556,
      enhanced: '5.1.10',
      text: '556 5.1.10 recipient domain accepts no mail (null MX)',
    });
  }
  if (routing.kind === 'unroutable') {
    // Worded as the relay-denied refusal it is: soft, so the address is never suppressed
    // for a limit of this relay's configuration.
    return settled({
      code: 550,
      enhanced: '5.7.1',
      text: '550 5.7.1 relaying denied: no static route for this domain and MX lookup is off',
    });
  }
  const destinations: Destination[] = [routing.destination, ...(routing.fallbacks ?? [])];
  const site = siteOf(ports.profiles, {
    domain,
    hosts: destinations.map((destination) => destination.host),
    port: routing.destination.port,
  });
  const { pool } = envelope.data;
  // Checked before taking a slot so a capped pool holds none; picked after, so a message the
  // site postpones is not counted against a source.
  const cappedUntil = ports.sources.cappedUntil(pool);
  if (cappedUntil !== undefined) return cappedAttempt(cappedUntil, ports);
  const lane = envelope.data.messageClass === 'transactional' ? 'transactional' : 'bulk';
  const slot = await ports.scheduler.acquire(pool, site, envelope.id, lane);
  if (slot.kind === 'postponed')
    return { kind: 'postponed', site, retryAfterMs: slot.retryAfterMs };
  let feedback: ThrottleFeedback = 'neutral';
  try {
    const source = ports.sources.pick(pool);
    if (source.kind === 'capped') return cappedAttempt(source.retryAtMs, ports);
    const sent = await ports.smtp.send(
      destinations,
      {
        mailFrom: envelope.data.mailFrom,
        rcptTo: envelope.data.rcptTo,
        raw: Buffer.from(envelope.data.rawBase64, 'base64'),
      },
      {
        maxConnections: site.profile.maxConnections,
        maxMessagesPerConnection: site.profile.maxMessagesPerConnection,
        requireTls: ports.requiresTls(domain),
        source: source.source,
      },
    );
    const throttled = isThrottleReply(site.profile, sent.reply);
    feedback = feedbackOf(sent.reply, throttled);
    return {
      kind: 'settled',
      reply: sent.reply,
      outcome: classifyReply(sent.reply),
      ...(sent.command === undefined ? {} : { command: sent.command }),
      site,
      throttled,
    };
  } finally {
    slot.release(feedback);
  }
}

/**
 * Postponed to the next UTC day, spread over its first minutes: a whole day's backlog of a
 * capped pool must not come back in the same second.
 */
function cappedAttempt(retryAtMs: number, ports: RelayPorts): Attempt {
  const waitMs = Math.max(0, retryAtMs - ports.now().getTime());
  return { kind: 'capped', retryAfterMs: waitMs + Math.floor(Math.random() * 600_000) };
}

/** What a reply tells the site's controller. */
function feedbackOf(reply: SmtpReply, throttled: boolean): ThrottleFeedback {
  if (throttled) return 'throttled';
  if (reply.code === undefined) return 'connection_failed';
  return reply.code < 300 ? 'accepted' : 'neutral';
}
