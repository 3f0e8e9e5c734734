import type { ChannelModel, ConsumeMessage } from 'amqplib';
import type { Logger } from '@relais/telemetry';
import type { Delivery, DeliveryHandler, Headers, Subscription } from '../transport';
import { ConsumerChannel } from './consumer-channel';

/** How long a subscription waits before re-consuming after its channel alone died. */
const RESTART_DELAY_MS = 1_000;

/**
 * One `consume` call: its own channel and prefetch, re-established on every new connection
 * by the transport. Deliveries from a dead channel can no longer be settled (the broker has
 * already put them back), so their ack/requeue become no-ops.
 */
export class RabbitSubscription implements Subscription {
  private slot: ConsumerChannel | undefined;
  private consumerTag: string | undefined;
  private active = true;
  private readonly inFlight = new Set<Promise<void>>();
  private restartTimer: NodeJS.Timeout | undefined;
  private connection: ChannelModel | undefined;

  constructor(
    readonly queue: string,
    private readonly handler: DeliveryHandler,
    private readonly prefetch: number,
    private readonly logger: Logger,
    private readonly onCancelled: (subscription: RabbitSubscription) => void,
  ) {}

  /** Opens a channel on `connection` and starts consuming; rejects if the broker refuses. */
  async start(connection: ChannelModel): Promise<void> {
    this.connection = connection;
    const channel = await connection.createChannel();
    const slot = new ConsumerChannel(channel);
    channel.on('error', (error: unknown) => {
      this.logger.warn(
        { event: { action: 'bus.consumer.channel_failed' }, queue: this.queue, err: error },
        'consumer channel failed',
      );
    });
    channel.on('close', () => this.onChannelClosed(slot));
    try {
      await channel.prefetch(this.prefetch);
      this.slot = slot;
      const reply = await channel.consume(this.queue, (message) => this.onMessage(slot, message), {
        noAck: false,
      });
      this.consumerTag = reply.consumerTag;
    } catch (error) {
      slot.alive = false;
      if (this.slot === slot) this.slot = undefined;
      await channel.close().catch(() => undefined);
      throw error;
    }
    if (!this.active) await this.stopChannel();
  }

  /** The connection died: every delivery of it is back on the broker; wait for the next one. */
  detach(): void {
    if (this.slot) this.slot.alive = false;
    this.slot = undefined;
    this.connection = undefined;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  /** Whether this subscription still wants deliveries (not cancelled). */
  get isActive(): boolean {
    return this.active;
  }

  async cancel(): Promise<void> {
    if (!this.active) return this.settled();
    this.active = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const slot = this.slot;
    if (slot?.alive && this.consumerTag !== undefined) {
      await slot.channel.cancel(this.consumerTag).catch(() => undefined);
    }
    await this.settled();
    await this.stopChannel();
    this.onCancelled(this);
  }

  private async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async stopChannel(): Promise<void> {
    const slot = this.slot;
    this.slot = undefined;
    if (!slot?.alive) return;
    slot.flush();
    slot.alive = false;
    await slot.channel.close().catch(() => undefined);
  }

  private onChannelClosed(slot: ConsumerChannel): void {
    const wasCurrent = this.slot === slot && slot.alive;
    slot.alive = false;
    if (!wasCurrent) return;
    this.slot = undefined;
    // Only the channel died (queue deleted, a channel error): the connection's own close
    // handler covers the rest, so restart here only while that connection is still ours.
    this.scheduleRestart();
  }

  /** Retries `start` on the current connection until it works or the connection changes. */
  scheduleRestart(): void {
    const connection = this.connection;
    if (!this.active || !connection || this.restartTimer) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.active || this.connection !== connection || this.slot) return;
      this.start(connection).then(
        () =>
          this.logger.info(
            { event: { action: 'bus.consumer.restarted' }, queue: this.queue },
            'consumer restarted',
          ),
        (error: unknown) => {
          this.logger.warn(
            { event: { action: 'bus.consumer.restart_failed' }, queue: this.queue, err: error },
            'consumer restart failed',
          );
          this.scheduleRestart();
        },
      );
    }, RESTART_DELAY_MS);
    this.restartTimer.unref();
  }

  private onMessage(slot: ConsumerChannel, message: ConsumeMessage | null): void {
    if (message === null) {
      // basic.cancel from the broker (queue deleted or failed over): consume again later.
      this.logger.warn(
        { event: { action: 'bus.consumer.cancelled_by_broker' }, queue: this.queue },
        'broker cancelled consumer',
      );
      if (this.slot === slot) {
        this.slot = undefined;
        slot.alive = false;
        void slot.channel.close().catch(() => undefined);
        this.scheduleRestart();
      }
      return;
    }
    const delivery = toDelivery(slot, message);
    const running: Promise<void> = this.handler(delivery)
      .catch((error: unknown) => {
        // The handler contract is to settle; a throw is a bug upstream, and requeueing keeps
        // the message (the quorum delivery limit stops it looping forever).
        this.logger.error(
          { event: { action: 'bus.consumer.handler_threw' }, queue: this.queue, err: error },
          'delivery handler threw',
        );
        delivery.requeue();
      })
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }
}

function toDelivery(slot: ConsumerChannel, message: ConsumeMessage): Delivery {
  const raw = message.properties.headers ?? {};
  const headers: Headers = {};
  for (const key of Object.keys(raw)) {
    const value: unknown = raw[key];
    // x-death and other tables are broker bookkeeping, not relais headers.
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      headers[key] = value;
    }
  }
  const count = raw['x-delivery-count'] as unknown;
  let settled = false;
  slot.received(message.fields.deliveryTag);
  return {
    body: message.content,
    headers,
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    messageId:
      typeof message.properties.messageId === 'string' ? message.properties.messageId : undefined,
    redelivered: message.fields.redelivered,
    deliveryCount: typeof count === 'number' ? count : 0,
    ack: () => {
      if (settled) return;
      settled = true;
      slot.ack(message.fields.deliveryTag);
    },
    requeue: () => {
      if (settled) return;
      settled = true;
      slot.requeue(message);
    },
  };
}
