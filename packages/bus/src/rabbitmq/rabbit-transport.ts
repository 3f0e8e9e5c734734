import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { RelaisError } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import type { Topology } from '../topology';
import type {
  ConsumeOptions,
  DeliveryHandler,
  OutgoingMessage,
  Subscription,
  Transport,
} from '../transport';
import { declareTopology } from './declare';
import { ConfirmPublisher } from './publisher';
import { RabbitSubscription } from './subscription';

/** Options of `createRabbitTransport`. */
export interface RabbitTransportOptions {
  /** amqp(s):// URL; credentials in it are never logged. */
  url: string;
  logger: Logger;
  /** Publishes in flight awaiting a confirm (default 256). */
  confirmWindow?: number;
  /** First delay before reconnecting; doubles up to `maxReconnectDelayMs` (default 200). */
  reconnectDelayMs?: number;
  /** Ceiling of the reconnect backoff (default 5,000). */
  maxReconnectDelayMs?: number;
  /** AMQP heartbeat: how fast a silent dead peer is noticed (default 10). */
  heartbeatSeconds?: number;
  /** How long publish/declare wait for a connection before BUS_UNAVAILABLE (default 30,000). */
  publishTimeoutMs?: number;
  /** Shown in the management UI, to tell services' connections apart. */
  connectionName?: string;
}

type State = 'connecting' | 'connected' | 'closing' | 'closed';

/**
 * The RabbitMQ adapter of the Transport port. Owns one connection, a confirm channel for
 * publishing and one channel per subscription; on connection loss it reconnects with
 * backoff and restores topology, publisher and subscriptions without the callers noticing
 * (except that unconfirmed publishes fail retryably and unacked deliveries come back).
 */
export class RabbitTransport implements Transport {
  private state: State = 'connecting';
  private connection: ChannelModel | undefined;
  private readonly topologies: Topology[] = [];
  private readonly subscriptions = new Set<RabbitSubscription>();
  private readonly publisher: ConfirmPublisher;
  private reconnecting = false;
  private connectedWaiters: (() => void)[] = [];
  private readonly options: Required<Omit<RabbitTransportOptions, 'connectionName'>> & {
    connectionName: string;
  };

  private constructor(options: RabbitTransportOptions) {
    this.options = {
      confirmWindow: 256,
      reconnectDelayMs: 200,
      maxReconnectDelayMs: 5_000,
      heartbeatSeconds: 10,
      publishTimeoutMs: 30_000,
      connectionName: 'relais',
      ...options,
    };
    this.publisher = new ConfirmPublisher({
      confirmWindow: this.options.confirmWindow,
      publishTimeoutMs: this.options.publishTimeoutMs,
      logger: options.logger,
    });
  }

  /** Connects once (failing fast with BUS_UNAVAILABLE); later losses reconnect on their own. */
  static async connect(options: RabbitTransportOptions): Promise<RabbitTransport> {
    const transport = new RabbitTransport(options);
    try {
      await transport.open();
    } catch (error) {
      transport.state = 'closed';
      throw new RelaisError('BUS_UNAVAILABLE', 'cannot connect to RabbitMQ', { cause: error });
    }
    return transport;
  }

  /** Whether a connection is established right now. */
  get connected(): boolean {
    return this.state === 'connected';
  }

  async declare(topology: Topology): Promise<void> {
    this.assertOpen();
    if (!this.topologies.includes(topology)) this.topologies.push(topology);
    try {
      await this.waitConnected();
      const connection = this.connection;
      if (!connection) throw new RelaisError('BUS_UNAVAILABLE', 'connection lost while declaring');
      await declareTopology(connection, topology);
    } catch (error) {
      // A topology the broker refuses would make every reconnect fail the same way.
      const index = this.topologies.indexOf(topology);
      if (index >= 0) this.topologies.splice(index, 1);
      throw error;
    }
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') {
      return Promise.reject(new RelaisError('BUS_CLOSED', 'the bus transport is closed'));
    }
    return this.publisher.publish(message);
  }

  async consume(
    queue: string,
    onDelivery: DeliveryHandler,
    options: ConsumeOptions,
  ): Promise<Subscription> {
    this.assertOpen();
    const subscription = new RabbitSubscription(
      queue,
      onDelivery,
      options.prefetch,
      this.options.logger,
      (sub) => this.subscriptions.delete(sub),
    );
    await this.waitConnected();
    const connection = this.connection;
    if (!connection) throw new RelaisError('BUS_UNAVAILABLE', 'connection lost while subscribing');
    try {
      await subscription.start(connection);
    } catch (error) {
      throw new RelaisError('BUS_UNAVAILABLE', `cannot consume from ${queue}`, {
        cause: error,
        details: { queue },
      });
    }
    this.subscriptions.add(subscription);
    return subscription;
  }

  async ping(): Promise<void> {
    if (this.state !== 'connected' || !this.connection) {
      throw new RelaisError('BUS_UNAVAILABLE', `RabbitMQ connection is ${this.state}`);
    }
  }

  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closing';
    this.wakeConnectedWaiters();
    await Promise.all([...this.subscriptions].map((sub) => sub.cancel()));
    await this.publisher.close(wasConnected ? this.options.publishTimeoutMs : 0);
    const connection = this.connection;
    this.connection = undefined;
    this.state = 'closed';
    if (connection) await connection.close().catch(() => undefined);
  }

  /** Publishes awaiting a confirm and publishes waiting for a window slot (for tests and metrics). */
  get publishBacklog(): { inFlight: number; waiting: number } {
    return this.publisher.backlog;
  }

  /**
   * Test hook: destroys the socket under the connection, which amqplib cannot tell from a
   * network cut (no close handshake), to exercise the reconnect path.
   */
  async debugKillConnection(): Promise<void> {
    const connection = this.connection;
    const socket = (
      connection?.connection as unknown as { stream?: { destroy(error?: Error): void } } | undefined
    )?.stream;
    if (!connection || !socket) return;
    // Resolves once amqplib noticed (the socket reports the error on a later tick), so a
    // caller's next publish deterministically sees the disconnected state.
    const noticed = new Promise<void>((resolve) => connection.once('close', () => resolve()));
    socket.destroy(new Error('connection killed by debugKillConnection'));
    await noticed;
  }

  private assertOpen(): void {
    if (this.state === 'closing' || this.state === 'closed') {
      throw new RelaisError('BUS_CLOSED', 'the bus transport is closed');
    }
  }

  /** One connection attempt: connect, declare, open the publisher, resume subscriptions. */
  private async open(): Promise<void> {
    const url = new URL(this.options.url);
    if (!url.searchParams.has('heartbeat'))
      url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds));
    const connection = await amqp.connect(url.toString(), {
      clientProperties: { connection_name: this.options.connectionName },
    });
    this.connection = connection;
    connection.on('error', (error: unknown) => {
      this.options.logger.warn(
        { event: { action: 'bus.connection.failed' }, err: error },
        'bus connection error',
      );
    });
    connection.on('close', () => this.onConnectionLost(connection));
    connection.on('blocked', (reason: unknown) => {
      if (this.connection === connection) this.publisher.setBlocked(true);
      this.options.logger.warn(
        { event: { action: 'bus.connection.blocked' }, reason: String(reason) },
        'broker blocked publishing',
      );
    });
    connection.on('unblocked', () => {
      if (this.connection === connection) this.publisher.setBlocked(false);
      this.options.logger.info(
        { event: { action: 'bus.connection.unblocked' } },
        'broker unblocked publishing',
      );
    });
    try {
      for (const topology of this.topologies) await declareTopology(connection, topology);
      const channel = await connection.createConfirmChannel();
      this.watchPublisherChannel(connection, channel);
      for (const subscription of this.subscriptions) {
        if (!subscription.isActive) continue;
        await subscription.start(connection).catch((error: unknown) => {
          // One queue gone must not keep the whole transport down: retry it on its own.
          this.options.logger.warn(
            {
              event: { action: 'bus.consumer.restart_failed' },
              queue: subscription.queue,
              err: error,
            },
            'consumer restart failed',
          );
          subscription.scheduleRestart();
        });
      }
      if (this.connection !== connection) throw new Error('connection lost while opening');
      if (this.state === 'closing' || this.state === 'closed') {
        await connection.close().catch(() => undefined);
        return;
      }
      this.publisher.attach(channel);
      this.state = 'connected';
      this.wakeConnectedWaiters();
    } catch (error) {
      if (this.connection === connection) this.connection = undefined;
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private watchPublisherChannel(connection: ChannelModel, channel: ConfirmChannel): void {
    channel.on('error', (error: unknown) => {
      this.options.logger.warn(
        { event: { action: 'bus.publisher.channel_failed' }, err: error },
        'publisher channel failed',
      );
    });
    channel.on('close', () => {
      this.publisher.detach(channel, 'channel closed before confirm');
      // A channel-level error (e.g. a publish to a missing exchange) leaves the connection
      // up: open a new publisher channel on it. amqplib closes channels just before it
      // reports the connection closed, so decide on the next turn, when that is known.
      setImmediate(() => this.reopenPublisherChannel(connection));
    });
  }

  private reopenPublisherChannel(connection: ChannelModel): void {
    if (this.connection !== connection || this.state !== 'connected') return;
    connection.createConfirmChannel().then(
      (next) => {
        if (this.connection !== connection || this.state !== 'connected') {
          void next.close().catch(() => undefined);
          return;
        }
        this.watchPublisherChannel(connection, next);
        this.publisher.attach(next);
      },
      (error: unknown) => {
        this.options.logger.warn(
          { event: { action: 'bus.publisher.reopen_failed' }, err: error },
          'cannot reopen publisher channel',
        );
        // Forcing a reconnect is the simplest way back to a working publisher.
        void connection.close().catch(() => undefined);
      },
    );
  }

  private onConnectionLost(connection: ChannelModel): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    for (const subscription of this.subscriptions) subscription.detach();
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'connecting';
    this.options.logger.warn(
      { event: { action: 'bus.connection.lost' } },
      'bus connection lost; reconnecting',
    );
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    let delayMs = this.options.reconnectDelayMs;
    let attempts = 0;
    try {
      while (this.state === 'connecting') {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (this.state !== 'connecting') return;
        attempts += 1;
        try {
          await this.open();
          this.options.logger.info(
            { event: { action: 'bus.connection.restored' }, attempts },
            'bus connection restored',
          );
          return;
        } catch (error) {
          this.options.logger.warn(
            { event: { action: 'bus.connection.retry_failed' }, attempts, err: error },
            'bus reconnect attempt failed',
          );
          delayMs = Math.min(delayMs * 2, this.options.maxReconnectDelayMs);
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  private async waitConnected(): Promise<void> {
    if (this.state === 'connected') return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(new RelaisError('BUS_UNAVAILABLE', 'timed out waiting for the broker connection')),
        this.options.publishTimeoutMs,
      );
      this.connectedWaiters.push(resolve);
    }).finally(() => clearTimeout(timer));
    this.assertOpen();
  }

  private wakeConnectedWaiters(): void {
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const wake of waiters) wake();
  }
}
