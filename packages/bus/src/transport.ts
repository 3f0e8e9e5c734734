import type { Envelope } from '@relais/domain';
import type { Topology } from './topology';

/**
 * The port every bus adapter implements: a small AMQP 0-9-1 model (exchanges, quorum
 * queues with TTL / dead-letter / delivery-limit arguments, bindings, confirms, acks).
 * The consumer runtime (validation, idempotency, retry tiers, dead-lettering) is written
 * once on top of it, so RabbitMQ and the in-memory adapter behave the same by construction.
 */
export interface Transport {
  /** Declares exchanges, queues and bindings. Idempotent; also re-run after a reconnect. */
  declare(topology: Topology): Promise<void>;
  /**
   * Resolves once the broker has taken responsibility for the message (publisher confirm
   * for RabbitMQ); rejects with BUS_PUBLISH_FAILED if it was nacked, unroutable or the
   * connection died before the confirm. Many publishes may be in flight at once (the
   * confirm window); when the window is full the call waits, which is the backpressure.
   */
  publish(message: OutgoingMessage): Promise<void>;
  /** Starts delivering a queue's messages to `onDelivery`, at most `prefetch` unacked at once. */
  consume(
    queue: string,
    onDelivery: DeliveryHandler,
    options: ConsumeOptions,
  ): Promise<Subscription>;
  /** Throws BUS_UNAVAILABLE unless the broker is reachable now (for /readyz). */
  ping(): Promise<void>;
  /** Stops every subscription and closes the connection. */
  close(): Promise<void>;
}

/** Header values that survive both AMQP field tables and the in-memory adapter unchanged. */
export type HeaderValue = string | number | boolean;
export type Headers = Record<string, HeaderValue>;

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  body: Buffer;
  headers?: Headers;
  /** AMQP `message-id` property: the envelope id. */
  messageId?: string;
  /** AMQP `type` property: the envelope type. */
  type?: string;
  /**
   * The validated, deeply frozen envelope that `body` encodes, when the publisher is the
   * MessageBus. In-process transports pass it on as `Delivery.envelope`, so in embedded
   * mode a message is never encoded to bytes nor parsed back; network transports ignore it.
   * `body` may then be a lazy getter: read it only when the bytes are needed.
   */
  envelope?: Envelope;
}

export interface Delivery {
  readonly body: Buffer;
  readonly headers: Readonly<Headers>;
  readonly exchange: string;
  readonly routingKey: string;
  readonly messageId: string | undefined;
  /** The publisher's validated envelope, when it never left this process (see OutgoingMessage). */
  readonly envelope?: Envelope | undefined;
  /** The broker delivered this message before (a consumer died or requeued it). */
  readonly redelivered: boolean;
  /**
   * How many earlier deliveries were not acked (quorum queues' `x-delivery-count`): what
   * stops a message that crashes its consumer from looping forever.
   */
  readonly deliveryCount: number;
  /** Settles the message: the broker forgets it. */
  ack(): void;
  /** Returns the message to its queue for immediate redelivery. */
  requeue(): void;
}

export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

export interface ConsumeOptions {
  /** Unacknowledged deliveries in flight at once. */
  prefetch: number;
}

export interface Subscription {
  /** Stops new deliveries and waits until every in-flight handler settled its delivery. */
  cancel(): Promise<void>;
}
