import type { ConfirmChannel, Message } from 'amqplib';
import { RelaisError } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import type { OutgoingMessage } from '../transport';

interface PendingPublish {
  readonly message: OutgoingMessage;
  readonly enqueuedAtMs: number;
  readonly resolve: () => void;
  readonly reject: (error: RelaisError) => void;
  /** The channel it was written to; undefined while it waits for a slot. */
  channel: ConfirmChannel | undefined;
  seq: number;
  /** Set by a basic.return, which the broker sends before the confirm of the same message. */
  returnedReason: string | undefined;
  settled: boolean;
}

/** Tunables of the confirm window. */
export interface PublisherOptions {
  /** Publishes written to the broker and not yet confirmed, at most. */
  confirmWindow: number;
  /** How long a publish may wait for a channel (disconnected broker) before BUS_UNAVAILABLE. */
  publishTimeoutMs: number;
  logger: Logger;
}

/**
 * Pipelined publisher confirms over one ConfirmChannel: up to `confirmWindow` publishes in
 * flight, FIFO waiting beyond that (the backpressure callers feel), and a publish resolves
 * only on the broker's ack. The channel is swapped on reconnect; waiting publishes survive
 * the swap, in-flight ones are failed (retryable) because their fate is unknown.
 */
export class ConfirmPublisher {
  private channel: ConfirmChannel | undefined;
  private readonly inFlight = new Map<number, PendingPublish>();
  // A FIFO with a moving head: a burst of 100k waiting publishes must not pay O(n) shifts.
  private waiting: PendingPublish[] = [];
  private waitingHead = 0;
  private nextSeq = 1;
  // Set when channel.publish returned false: the socket buffer is full until 'drain'.
  private awaitingDrain = false;
  private lastChannelError: string | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closedError: RelaisError | undefined;
  private idleWaiters: (() => void)[] = [];
  // Publishes may wait this long past the moment the channel went away, never less.
  private unavailableSinceMs = Date.now();
  private blocked = false;

  constructor(private readonly options: PublisherOptions) {}

  /** Publishes in flight plus publishes waiting for a slot. */
  get outstanding(): number {
    return this.inFlight.size + this.waitingCount;
  }

  /**
   * The broker blocked this connection (memory or disk alarm): publishes stall like when
   * disconnected, so they get the same bounded wait instead of hanging forever.
   */
  setBlocked(blocked: boolean): void {
    this.blocked = blocked;
    if (blocked) this.unavailableSinceMs = Math.min(this.unavailableSinceMs, Date.now());
    else if (this.channel !== undefined) this.unavailableSinceMs = Number.POSITIVE_INFINITY;
    if (blocked && this.waitingCount > 0) this.ensureSweep();
  }

  /** Publishes awaiting a confirm, and publishes waiting for a slot. */
  get backlog(): { inFlight: number; waiting: number } {
    return { inFlight: this.inFlight.size, waiting: this.waitingCount };
  }

  /** Starts writing to a fresh confirm channel (after connect or reconnect). */
  attach(channel: ConfirmChannel): void {
    this.channel = channel;
    this.awaitingDrain = false;
    this.lastChannelError = undefined;
    this.blocked = false;
    this.unavailableSinceMs = Number.POSITIVE_INFINITY;
    channel.on('return', (message: Message) => this.onReturn(channel, message));
    channel.on('drain', () => {
      if (this.channel !== channel) return;
      this.awaitingDrain = false;
      this.pump();
    });
    channel.on('error', (error: unknown) => {
      this.lastChannelError = error instanceof Error ? error.message : String(error);
    });
    this.pump();
  }

  /**
   * The channel (or its connection) died. amqplib fails its unconfirmed callbacks itself;
   * this catches any it did not, so no publish is ever left hanging or reported confirmed.
   */
  detach(channel: ConfirmChannel, reason: string): void {
    if (this.channel === channel) {
      this.channel = undefined;
      this.unavailableSinceMs = Date.now();
    }
    for (const entry of [...this.inFlight.values()]) {
      if (entry.channel === channel) this.fail(entry, this.publishFailed(entry, reason));
    }
    this.notifyIfIdle();
  }

  /** Resolves once the broker confirmed the message; see Transport.publish. */
  publish(message: OutgoingMessage): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<void>((resolve, reject) => {
      const entry: PendingPublish = {
        message,
        enqueuedAtMs: Date.now(),
        resolve,
        reject,
        channel: undefined,
        seq: 0,
        returnedReason: undefined,
        settled: false,
      };
      if (this.waitingCount === 0 && this.canSend()) {
        this.send(entry);
      } else {
        this.waiting.push(entry);
        this.ensureSweep();
      }
    });
  }

  /** Waits until nothing is waiting or in flight, or `timeoutMs` passed; then refuses new publishes. */
  async close(timeoutMs: number): Promise<void> {
    if (this.outstanding > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.closedError = new RelaisError('BUS_CLOSED', 'the bus transport was closed');
    for (const entry of this.drainWaiting()) this.fail(entry, this.closedError);
    for (const entry of [...this.inFlight.values()]) this.fail(entry, this.closedError);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  private get waitingCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  private canSend(): boolean {
    return (
      this.channel !== undefined &&
      !this.awaitingDrain &&
      this.inFlight.size < this.options.confirmWindow
    );
  }

  private pump(): void {
    while (this.waitingCount > 0 && this.canSend()) {
      const entry = this.waiting[this.waitingHead];
      this.waiting[this.waitingHead] = undefined as unknown as PendingPublish;
      this.waitingHead += 1;
      if (entry) this.send(entry);
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
    this.notifyIfIdle();
  }

  private send(entry: PendingPublish): void {
    const channel = this.channel;
    if (!channel) {
      this.requeueFront(entry);
      return;
    }
    const seq = this.nextSeq++;
    const { message } = entry;
    entry.seq = seq;
    entry.channel = channel;
    this.inFlight.set(seq, entry);
    let written: boolean;
    try {
      written = channel.publish(
        message.exchange,
        message.routingKey,
        message.body,
        {
          persistent: true,
          mandatory: true,
          contentType: 'application/json',
          messageId: message.messageId,
          type: message.type,
          headers: message.headers,
        },
        (error: unknown) => this.onConfirm(entry, seq, error),
      );
    } catch {
      // amqplib throws synchronously once the channel is closing: the message never left,
      // so it may safely wait for the next channel instead of failing.
      // amqplib registered the callback before throwing and may still fire it when the
      // channel finishes closing; the seq reset makes that stale callback a no-op.
      this.inFlight.delete(seq);
      entry.seq = 0;
      entry.channel = undefined;
      this.awaitingDrain = true;
      this.requeueFront(entry);
      return;
    }
    if (!written) this.awaitingDrain = true;
  }

  private onConfirm(entry: PendingPublish, seq: number, error: unknown): void {
    if (entry.seq !== seq) return;
    this.inFlight.delete(seq);
    if (entry.settled) return;
    if (error) {
      const reason =
        this.lastChannelError ?? (error instanceof Error ? error.message : 'publish nacked');
      this.fail(entry, this.publishFailed(entry, reason));
    } else if (entry.returnedReason !== undefined) {
      this.fail(
        entry,
        new RelaisError('BUS_PUBLISH_FAILED', `message was unroutable: ${entry.returnedReason}`, {
          details: {
            exchange: entry.message.exchange,
            routingKey: entry.message.routingKey,
            reason: 'unroutable',
          },
        }),
      );
    } else {
      entry.settled = true;
      entry.resolve();
    }
    this.pump();
  }

  /**
   * A basic.return carries no delivery tag, only the message. It always precedes the
   * confirm of the same publish, so the message is still in flight: find it by content.
   * Two identical in-flight publishes share their routing fate, so either match is right.
   * Returns are rare, which keeps this scan off the hot path (a per-publish correlation
   * header would cost every message an extra field table entry instead).
   */
  private onReturn(channel: ConfirmChannel, message: Message): void {
    const { exchange, routingKey } = message.fields;
    const messageId: unknown = message.properties.messageId;
    for (const entry of this.inFlight.values()) {
      const sent = entry.message;
      if (
        entry.channel === channel &&
        entry.returnedReason === undefined &&
        sent.exchange === exchange &&
        sent.routingKey === routingKey &&
        (sent.messageId ?? undefined) === (messageId ?? undefined) &&
        sent.body.equals(message.content)
      ) {
        const fields = message.fields as unknown as { replyCode?: number; replyText?: string };
        entry.returnedReason = `${fields.replyCode ?? ''} ${fields.replyText ?? 'returned'}`.trim();
        return;
      }
    }
  }

  private publishFailed(entry: PendingPublish, reason: string): RelaisError {
    // A publish to a missing exchange kills the channel; retrying that one cannot help,
    // whereas the others in flight on the same channel were innocent bystanders.
    const missingExchange = /no exchange '([^']*)'/.exec(reason)?.[1];
    return new RelaisError('BUS_PUBLISH_FAILED', `publish not confirmed: ${reason}`, {
      retryable: missingExchange === undefined || missingExchange !== entry.message.exchange,
      details: { exchange: entry.message.exchange, routingKey: entry.message.routingKey },
    });
  }

  private fail(entry: PendingPublish, error: RelaisError): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.seq !== 0) this.inFlight.delete(entry.seq);
    entry.reject(error);
  }

  private requeueFront(entry: PendingPublish): void {
    if (this.waitingHead > 0) {
      this.waitingHead -= 1;
      this.waiting[this.waitingHead] = entry;
    } else {
      this.waiting.unshift(entry);
    }
    this.ensureSweep();
  }

  private drainWaiting(): PendingPublish[] {
    const entries = this.waiting.slice(this.waitingHead);
    this.waiting = [];
    this.waitingHead = 0;
    return entries;
  }

  /** Publishes that waited too long for a channel fail, so callers never hang on a dead broker. */
  private ensureSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(
      () => this.sweep(),
      Math.min(1000, this.options.publishTimeoutMs),
    );
    this.sweepTimer.unref();
  }

  private sweep(): void {
    const cutoff = Date.now() - this.options.publishTimeoutMs;
    // Only a missing channel is unavailability; a full window on a live channel is backpressure.
    if ((this.channel === undefined || this.blocked) && this.unavailableSinceMs <= cutoff) {
      let expired = 0;
      while (this.waitingCount > 0) {
        const head = this.waiting[this.waitingHead];
        if (!head || head.enqueuedAtMs > cutoff) break;
        this.waiting[this.waitingHead] = undefined as unknown as PendingPublish;
        this.waitingHead += 1;
        expired += 1;
        this.fail(
          head,
          new RelaisError('BUS_UNAVAILABLE', 'no broker connection to publish on', {
            details: { waitedMs: this.options.publishTimeoutMs },
          }),
        );
      }
      if (expired > 0)
        this.options.logger.warn(
          { event: { action: 'bus.publish.timed_out' }, count: expired },
          'publishes timed out waiting for the broker',
        );
    }
    if (this.waitingCount === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || this.outstanding > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
