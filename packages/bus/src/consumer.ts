import {
  RelaisError,
  decodeEnvelope,
  isRetryable,
  isValidatedEnvelope,
  toRelaisError,
  type Envelope,
  type MessageType,
} from '@relais/domain';
import {
  SpanKind,
  SpanStatusCode,
  contextFromTraceparent,
  trace,
  traceIdOf,
  tracingEnabled,
  type Logger,
} from '@relais/telemetry';
import {
  BUS_HEADERS,
  clipReason,
  readAttempt,
  republishHeaders,
  stringHeader,
} from './bus-headers';
import type { BusMetrics } from './bus-metrics';
import type { DedupeStore } from './dedupe';
import { DelayedRetry, delayPlan } from './delayed-retry';
import { exchangeName, retryExchangeName } from './topology';
import type { Delivery, Transport } from './transport';

/** A message handler: a plain async function of the validated envelope. Throw to fail. */
export type Handler<T extends MessageType> = (
  envelope: Envelope<T>,
  context: HandlerContext,
) => Promise<void>;

/** The handlers of one subscription, by message type; a type without one is dead-lettered. */
export type HandlerMap = { [T in MessageType]?: Handler<T> };

/** What a handler learns about the delivery besides the envelope. */
export interface HandlerContext {
  /** Logger carrying `relais.message_type`, `relais.tenant_id`, `relais.envelope_id`, `trace.id`. */
  readonly logger: Logger;
  /** Handler attempts including this one (delayed retries), starting at 1. */
  readonly attempt: number;
  /** Earlier deliveries of this copy that were never settled (a consumer died). */
  readonly deliveryCount: number;
  /** The broker delivered this copy before. */
  readonly redelivered: boolean;
}

/** Everything one subscription's consumer runtime needs. */
export interface ConsumerSettings {
  queue: string;
  /** Dedupe scope; several subscriptions of one service share it. */
  consumerName: string;
  handlers: HandlerMap;
  transport: Transport;
  logger: Logger;
  metrics: BusMetrics;
  /** Undefined when the handlers record processed envelope ids themselves (`dedupe: 'handler'`). */
  dedupe: DedupeStore | undefined;
  namespace: string;
  retryTiersMs: readonly number[];
  maxAttempts: number;
  /** Dead-letter (with reasons) a copy delivered this many times without being settled. */
  deliveryLimit: number;
  /** Epoch ms; default `Date.now`. */
  now?: () => number;
}

/** A delay queue's TTL may fire a little early; a copy due within this runs instead of hopping. */
const DUE_TOLERANCE_MS = 50;

const tracer = trace.getTracer('@relais/bus');

/** The HandlerContext of one delivery; its logger is built on first use. */
class MessageContext implements HandlerContext {
  readonly attempt: number;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  private child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly envelope: Envelope,
    private readonly traceparent: string | null,
    attempt: number,
    delivery: Delivery,
  ) {
    this.attempt = attempt;
    this.deliveryCount = delivery.deliveryCount;
    this.redelivered = delivery.redelivered;
  }

  // Lazy: most handlers never log, and a pino child per message is not free.
  get logger(): Logger {
    this.child ??= this.parent.child({
      'relais.message_type': this.envelope.type,
      'relais.tenant_id': this.envelope.tenantId,
      'relais.envelope_id': this.envelope.id,
      'trace.id': traceIdOf(this.traceparent),
    });
    return this.child;
  }
}

/**
 * The per-delivery state machine: decode → dedupe → handler → ack, delayed retry or
 * dead-letter. It never throws and never leaves a delivery unsettled: when the broker
 * refuses the retry or dead-letter copy, the original is requeued so nothing is lost.
 */
export function createDeliveryProcessor(
  settings: ConsumerSettings,
): (delivery: Delivery) => Promise<void> {
  const { queue, transport, metrics, logger, namespace } = settings;
  const deadExchange = exchangeName(namespace, 'dead');
  const lastTier = settings.retryTiersMs.length - 1;
  if (lastTier < 0) throw new RelaisError('CONFIG_INVALID', 'at least one retry tier is required');
  const now = settings.now ?? Date.now;

  const requeue = (
    delivery: Delivery,
    error: unknown,
    envelopeId: string | undefined,
    what: 'retry' | 'dead-letter',
  ): void => {
    logger.error(
      {
        err: error,
        'event.action': 'bus.republish.failed',
        'relais.queue': queue,
        'relais.envelope_id': envelopeId,
        'relais.republish': what,
      },
      'republish failed; message requeued',
    );
    delivery.requeue();
  };

  const deadLetter = async (
    delivery: Delivery,
    failure: RelaisError,
    attempt: number,
    envelope: Envelope | undefined,
  ): Promise<void> => {
    const headers = delivery.headers;
    const reason = clipReason(failure.message);
    try {
      await transport.publish({
        exchange: deadExchange,
        routingKey: delivery.routingKey,
        body: delivery.body,
        headers: republishHeaders(headers, {
          [BUS_HEADERS.failureCode]: failure.code,
          [BUS_HEADERS.failureReason]: reason,
          [BUS_HEADERS.originalQueue]: queue,
          [BUS_HEADERS.originalExchange]:
            stringHeader(headers, BUS_HEADERS.originalExchange) ?? delivery.exchange,
          [BUS_HEADERS.originalRoutingKey]:
            stringHeader(headers, BUS_HEADERS.originalRoutingKey) ?? delivery.routingKey,
          [BUS_HEADERS.attempt]: attempt,
          [BUS_HEADERS.failedAt]: new Date().toISOString(),
        }),
        ...(delivery.messageId === undefined ? {} : { messageId: delivery.messageId }),
        ...(envelope === undefined ? {} : { type: envelope.type }),
      });
    } catch (error) {
      requeue(delivery, error, envelope?.id, 'dead-letter');
      return;
    }
    delivery.ack();
    metrics.consumed(queue, envelope?.type ?? 'invalid', 'dead_lettered');
    logger.error(
      {
        'error.code': failure.code,
        'error.message': reason,
        'relais.queue': queue,
        'relais.envelope_id': envelope?.id ?? delivery.messageId,
        'relais.tenant_id': envelope?.tenantId,
        'event.action': 'bus.message.dead_lettered',
        'relais.message_type': envelope?.type,
        'relais.attempt': attempt,
      },
      'message dead-lettered',
    );
  };

  const retry = async (
    delivery: Delivery,
    failure: RelaisError,
    attempt: number,
    envelope: Envelope,
  ): Promise<void> => {
    let tierMs = settings.retryTiersMs[Math.min(attempt - 1, lastTier)] ?? 0;
    let nextAttempt = attempt + 1;
    // Always written, so a due time carried from an earlier hop never outlives its retry.
    let dueAtMs = 0;
    if (failure instanceof DelayedRetry) {
      const plan = delayPlan(settings.retryTiersMs, failure.delayMs, now());
      tierMs = plan.tierMs;
      dueAtMs = plan.dueAtMs ?? 0;
      if (!failure.consumesAttempt) nextAttempt = attempt;
    }
    try {
      // The delay queue dead-letters the copy to `requeue` with this routing key, which
      // only the original queue is bound to: other consumers of the event never see it.
      await transport.publish({
        exchange: retryExchangeName(namespace, tierMs),
        routingKey: queue,
        body: delivery.body,
        headers: republishHeaders(delivery.headers, {
          [BUS_HEADERS.attempt]: nextAttempt,
          [BUS_HEADERS.dueAt]: dueAtMs,
          [BUS_HEADERS.originalExchange]:
            stringHeader(delivery.headers, BUS_HEADERS.originalExchange) ?? delivery.exchange,
          [BUS_HEADERS.originalRoutingKey]:
            stringHeader(delivery.headers, BUS_HEADERS.originalRoutingKey) ?? delivery.routingKey,
        }),
        messageId: envelope.id,
        type: envelope.type,
      });
    } catch (error) {
      requeue(delivery, error, envelope.id, 'retry');
      return;
    }
    delivery.ack();
    metrics.consumed(queue, envelope.type, 'retried');
    // A postponement without an attempt is flow control, not a failure worth a warning.
    const postponed = failure instanceof DelayedRetry && !failure.consumesAttempt;
    logger[postponed ? 'debug' : 'warn'](
      {
        'error.code': failure.code,
        'error.message': failure.message,
        'relais.queue': queue,
        'relais.envelope_id': envelope.id,
        'relais.tenant_id': envelope.tenantId,
        'event.action': 'bus.message.retry_scheduled',
        'relais.message_type': envelope.type,
        'relais.attempt': attempt,
        'relais.retry_in_ms': failure instanceof DelayedRetry ? failure.delayMs : tierMs,
      },
      'handler failed; retry scheduled',
    );
  };

  /**
   * A delayed copy that arrived before it is due rides another tier, untouched otherwise: the
   * handler does not run, the attempt number stays. Republish first, then ack, like a retry.
   */
  const hop = async (delivery: Delivery, envelope: Envelope, dueAtMs: number): Promise<void> => {
    const plan = delayPlan(settings.retryTiersMs, dueAtMs - now(), now());
    try {
      await transport.publish({
        exchange: retryExchangeName(namespace, plan.tierMs),
        routingKey: queue,
        body: delivery.body,
        headers: republishHeaders(delivery.headers, { [BUS_HEADERS.dueAt]: dueAtMs }),
        messageId: envelope.id,
        type: envelope.type,
      });
    } catch (error) {
      requeue(delivery, error, envelope.id, 'retry');
      return;
    }
    delivery.ack();
    metrics.consumed(queue, envelope.type, 'retried');
  };

  const run = (
    delivery: Delivery,
    envelope: Envelope,
    handler: Handler<MessageType>,
    attempt: number,
  ): Promise<void> => {
    const traceparent =
      stringHeader(delivery.headers, BUS_HEADERS.traceparent) ?? envelope.traceparent;
    const context = new MessageContext(logger, envelope, traceparent, attempt, delivery);
    if (!tracingEnabled()) return handler(envelope, context);
    return tracer.startActiveSpan(
      `${queue} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': queue,
          'messaging.message.id': envelope.id,
          'relais.message_type': envelope.type,
          'relais.attempt': attempt,
        },
      },
      contextFromTraceparent(traceparent),
      async (span) => {
        try {
          await handler(envelope, context);
        } catch (error) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };

  const process = async (delivery: Delivery): Promise<void> => {
    const attempt = readAttempt(delivery.headers);
    let envelope: Envelope;
    try {
      // An envelope carried in-process was validated and frozen by the publishing bus:
      // checking that identity is this end's validation. Bytes are always decoded.
      const carried = delivery.envelope;
      envelope = isValidatedEnvelope(carried)
        ? carried
        : // A string, not the Buffer: decodeEnvelope would copy the bytes first.
          decodeEnvelope(delivery.body.toString('utf8'));
    } catch (error) {
      return deadLetter(delivery, toRelaisError(error, 'MESSAGE_INVALID'), attempt, undefined);
    }
    const handler = settings.handlers[envelope.type] as Handler<MessageType> | undefined;
    if (handler === undefined) {
      const failure = new RelaisError(
        'MESSAGE_UNKNOWN_TYPE',
        `queue ${queue} has no handler for ${envelope.type}`,
        {
          details: { queue, type: envelope.type },
        },
      );
      return deadLetter(delivery, failure, attempt, envelope);
    }
    const dueAtMs = delivery.headers[BUS_HEADERS.dueAt];
    if (typeof dueAtMs === 'number' && dueAtMs - now() > DUE_TOLERANCE_MS) {
      return hop(delivery, envelope, dueAtMs);
    }
    const fail = (error: unknown): Promise<void> => {
      const failure = toRelaisError(error, 'HANDLER_FAILED');
      // A postponement did no work, so it never uses up the message's attempts.
      const withinAttempts =
        attempt < settings.maxAttempts ||
        (failure instanceof DelayedRetry && !failure.consumesAttempt);
      return isRetryable(error) && withinAttempts
        ? retry(delivery, failure, attempt, envelope)
        : deadLetter(delivery, failure, attempt, envelope);
    };
    const dedupe = settings.dedupe;
    if (dedupe !== undefined) {
      let duplicate: boolean;
      try {
        const seen = dedupe.has(settings.consumerName, envelope.id);
        // The in-memory store answers synchronously: no promise, no extra microtask turn.
        duplicate = typeof seen === 'boolean' ? seen : await seen;
      } catch (error) {
        // A dedupe store that is down (a database) fails like the handler would: delayed retry.
        return fail(error);
      }
      if (duplicate) {
        delivery.ack();
        metrics.consumed(queue, envelope.type, 'duplicate');
        return;
      }
    }
    if (delivery.deliveryCount >= settings.deliveryLimit) {
      // Each earlier delivery died with its consumer; the broker's own limit would drop it
      // to the dead-letter queue without saying why, so do it here with the reason.
      const failure = new RelaisError(
        'HANDLER_FAILED',
        `delivered ${delivery.deliveryCount + 1} times without being settled (consumer crash loop)`,
        { retryable: false, details: { queue, deliveryCount: delivery.deliveryCount } },
      );
      return deadLetter(delivery, failure, attempt, envelope);
    }
    const started = performance.now();
    try {
      await run(delivery, envelope, handler, attempt);
    } catch (error) {
      metrics.handlerSeconds(queue, envelope.type, (performance.now() - started) / 1000);
      return fail(error);
    }
    metrics.handlerSeconds(queue, envelope.type, (performance.now() - started) / 1000);
    if (dedupe !== undefined) {
      try {
        const added = dedupe.add(settings.consumerName, envelope.id);
        if (added !== undefined) await added;
      } catch (error) {
        // The work is done; failing it now would run it twice. Only a redelivery can slip through.
        logger.warn(
          {
            err: error,
            'event.action': 'bus.dedupe.record_failed',
            'relais.queue': queue,
            'relais.envelope_id': envelope.id,
          },
          'dedupe record failed',
        );
      }
    }
    delivery.ack();
    metrics.consumed(queue, envelope.type, 'acked');
  };

  return async (delivery) => {
    try {
      await process(delivery);
    } catch (error) {
      // Unreachable by design (every path above catches); a bug must not stop the consumer.
      logger.error(
        { err: error, 'event.action': 'bus.consumer.failed', 'relais.queue': queue },
        'consumer runtime failed; message requeued',
      );
      delivery.requeue();
    }
  };
}
