import {
  RelaisError,
  encodeEnvelope,
  isValidatedEnvelope,
  parseEnvelope,
  type Envelope,
  type MessageType,
} from '@relais/domain';
import { currentTraceparent, tracingEnabled, type Logger, type Registry } from '@relais/telemetry';
import { BUS_HEADERS } from './bus-headers';
import { createBusMetrics, type BusMetrics } from './bus-metrics';
import { createDeliveryProcessor, type HandlerMap } from './consumer';
import { createMemoryDedupeStore, type DedupeStore } from './dedupe';
import {
  DEFAULT_DELIVERY_LIMIT,
  DEFAULT_RETRY_TIERS_MS,
  EXCHANGE_OF,
  buildTopology,
  exchangeName,
  type WorkQueue,
} from './topology';
import type { Headers, OutgoingMessage, Subscription, Transport } from './transport';

export type { Handler, HandlerContext, HandlerMap } from './consumer';

/** How a MessageBus is wired; only the transport and logger are required. */
export interface MessageBusOptions {
  transport: Transport;
  logger: Logger;
  metrics?: Registry;
  /** Prefix of every exchange and queue name; default `relais`. */
  namespace?: string;
  /** Delay before each retry, by attempt (the last tier repeats); default 1s, 10s, 1min, 10min. */
  retryTiersMs?: number[];
  /** Handler attempts before a retryable failure is dead-lettered; default 5. */
  maxAttempts?: number;
  /** Unsettled deliveries (consumer crashes) before a message is dead-lettered; default 10. */
  deliveryLimit?: number;
  /** Default: an in-process LRU (see createMemoryDedupeStore for its limits). */
  dedupe?: DedupeStore;
}

/** Options of one subscription. */
export interface SubscribeOptions {
  /** Deliveries processed concurrently; default 32. */
  prefetch?: number;
  /** Dedupe scope; default the queue name. */
  consumerName?: string;
  /**
   * Handler attempts before a retryable failure is dead-lettered, for this subscription only
   * (a consumer that expires its messages by age itself sets it high); default the bus's.
   */
  maxAttempts?: number;
  /**
   * Who skips envelopes this consumer already processed. `'store'` (default): the runtime
   * asks the bus's DedupeStore before the handler and records the id after it (two store
   * round trips per delivery when the store is a database). `'handler'`: the runtime never
   * touches the DedupeStore; the handler records the envelope id itself in the transaction
   * that holds its effect (`claimInbox` from @relais/store, or a set-based insert into
   * `inbox` for a batch) and returns without effect when the id was already recorded.
   * Stronger too: the effect and the record commit together.
   */
  dedupe?: 'store' | 'handler';
}

/** Options of one publish. */
export interface PublishOptions {
  /** Overrides the routing key derived from the envelope. */
  routingKey?: string;
}

/** Handler attempts (first run plus delayed retries) before a retryable failure is dead-lettered. */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** Deliveries one subscription processes concurrently unless told otherwise. */
export const DEFAULT_PREFETCH = 32;

/** The routing key an envelope is published with unless the caller overrides it. */
export function defaultRoutingKey(envelope: Envelope): string {
  if (envelope.type === 'outbound.send') {
    const data = (envelope as Envelope<'outbound.send'>).data;
    // The outbound exchange is direct on `<pool>.<class>`: one queue per pool and class.
    return `${data.pool}.${data.messageClass}`;
  }
  return envelope.type;
}

/**
 * The consumer runtime every service shares, on top of any Transport: envelopes are
 * validated at both ends, handlers run once per envelope id, with a logger and a span, and
 * failures are retried with delay or dead-lettered according to `retryable`.
 */
export class MessageBus {
  private readonly transport: Transport;
  private readonly logger: Logger;
  private readonly metrics: BusMetrics;
  private readonly namespace: string;
  private readonly retryTiersMs: number[];
  private readonly maxAttempts: number;
  private readonly deliveryLimit: number;
  private readonly dedupe: DedupeStore;
  private readonly subscriptions = new Set<Subscription>();
  private readonly exchanges = new Map<MessageType, string>();
  private closed = false;

  constructor(options: MessageBusOptions) {
    this.transport = options.transport;
    this.logger = options.logger;
    this.metrics = createBusMetrics(options.metrics);
    this.namespace = options.namespace ?? 'relais';
    this.retryTiersMs = options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.deliveryLimit = options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
    this.dedupe = options.dedupe ?? createMemoryDedupeStore();
    if (
      this.retryTiersMs.length === 0 ||
      this.retryTiersMs.some((ms) => !Number.isInteger(ms) || ms < 0)
    ) {
      throw new RelaisError(
        'CONFIG_INVALID',
        'retryTiersMs must be one or more non-negative integers',
      );
    }
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RelaisError('CONFIG_INVALID', 'maxAttempts must be a positive integer');
    }
  }

  /** Declares the full topology (retry tiers, requeue, dead-letter) around these work queues. */
  async declare(workQueues: WorkQueue[]): Promise<void> {
    await this.transport.declare(
      buildTopology({
        namespace: this.namespace,
        retryTiersMs: this.retryTiersMs,
        deliveryLimit: this.deliveryLimit,
        queues: workQueues,
      }),
    );
  }

  /** Validates and publishes one envelope; resolves once the broker confirmed it. */
  publish<T extends MessageType>(
    envelope: Envelope<T>,
    options: PublishOptions = {},
  ): Promise<void> {
    // Not `async`: one promise per publish instead of two on the hot path.
    let message: OutgoingMessage;
    try {
      message = this.prepare(envelope, options.routingKey);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.send(message);
  }

  /**
   * Publishes envelopes with every confirm in flight at once (the transport's confirm window
   * applies the backpressure). Nothing is sent unless all are valid; when some publishes
   * fail, the rest still complete and the error says how many failed, so the caller can
   * republish all of them (consumers dedupe by envelope id).
   */
  async publishMany(envelopes: Envelope[]): Promise<void> {
    const messages = envelopes.map((envelope) => this.prepare(envelope, undefined));
    const results = await Promise.allSettled(messages.map((message) => this.send(message)));
    const failures = results.filter(
      (result): result is PromiseRejectedResult => result.status === 'rejected',
    );
    const first = failures[0];
    if (first === undefined) return;
    throw new RelaisError(
      'BUS_PUBLISH_FAILED',
      `${failures.length} of ${envelopes.length} publishes failed`,
      {
        cause: first.reason,
        details: { failed: failures.length, total: envelopes.length },
      },
    );
  }

  /** Starts consuming `queue`, dispatching each message type to its handler. */
  async subscribe(
    queue: string,
    handlers: HandlerMap,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    this.ensureOpen();
    const onDelivery = createDeliveryProcessor({
      queue,
      consumerName: options.consumerName ?? queue,
      handlers,
      transport: this.transport,
      logger: this.logger,
      metrics: this.metrics,
      dedupe: options.dedupe === 'handler' ? undefined : this.dedupe,
      namespace: this.namespace,
      retryTiersMs: this.retryTiersMs,
      maxAttempts: options.maxAttempts ?? this.maxAttempts,
      deliveryLimit: this.deliveryLimit,
    });
    const inner = await this.transport.consume(queue, onDelivery, {
      prefetch: options.prefetch ?? DEFAULT_PREFETCH,
    });
    const subscription: Subscription = {
      cancel: async () => {
        this.subscriptions.delete(subscription);
        await inner.cancel();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Throws BUS_UNAVAILABLE unless the broker is reachable. */
  async ping(): Promise<void> {
    await this.transport.ping();
  }

  /** Stops consuming, waits for in-flight handlers, then closes the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.cancel()));
    await this.transport.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new RelaisError('BUS_CLOSED', 'the message bus is closed');
  }

  /** Validation happens here, at the publishing end: a bad envelope never reaches the broker. */
  private prepare(envelope: Envelope, routingKey: string | undefined): OutgoingMessage {
    this.ensureOpen();
    // createEnvelope already validated (and froze) it; anything else is validated here.
    const valid = isValidatedEnvelope(envelope) ? envelope : parseEnvelope(envelope);
    const headers: Headers = { [BUS_HEADERS.attempt]: 1 };
    // Without an exporter there is no active span to continue: skip the propagator.
    const traceparent = valid.traceparent ?? (tracingEnabled() ? currentTraceparent() : null);
    if (traceparent !== null) headers[BUS_HEADERS.traceparent] = traceparent;
    let body: Buffer | undefined;
    return {
      exchange: this.exchangeOf(valid.type),
      routingKey: routingKey ?? defaultRoutingKey(valid),
      // Encoded on first read: a network transport reads it at once, the in-process one
      // hands `envelope` to consumers and only encodes for a retry or dead letter.
      get body(): Buffer {
        body ??= encodeEnvelope(valid);
        return body;
      },
      headers,
      messageId: valid.id,
      type: valid.type,
      envelope: valid,
    };
  }

  /** The namespaced exchange of a message type, built once per type rather than per message. */
  private exchangeOf(type: MessageType): string {
    let name = this.exchanges.get(type);
    if (name === undefined) {
      name = exchangeName(this.namespace, EXCHANGE_OF[type]);
      this.exchanges.set(type, name);
    }
    return name;
  }

  private send(message: OutgoingMessage): Promise<void> {
    return this.transport.publish(message).then(() => {
      this.metrics.published(message.exchange, message.type ?? 'unknown');
    });
  }
}
