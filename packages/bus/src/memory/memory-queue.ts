import type { Envelope } from '@relais/domain';
import type { Delivery, DeliveryHandler, Headers, OutgoingMessage } from '../transport';
import type { QueueSpec } from '../topology';
import { Deque } from './deque';

/** A message as a queue holds it: the published bytes plus broker-side bookkeeping. */
/**
 * What was published: the bytes, and the publisher's validated envelope when there is one.
 * Kept by reference so a lazily encoded body is only produced if someone reads it.
 */
export type Payload = Pick<OutgoingMessage, 'body' | 'envelope'>;

export interface StoredMessage {
  readonly payload: Payload;
  readonly headers: Readonly<Headers>;
  readonly exchange: string;
  readonly routingKey: string;
  readonly messageId: string | undefined;
  readonly type: string | undefined;
  /** Earlier deliveries that were not acked (requeued, or lost with their connection). */
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /** Epoch ms after which the queue's TTL dead-letters it; Infinity without a TTL. */
  readonly expiresAt: number;
}

/** Why a queue dead-letters a message; RabbitMQ's `x-first-death-reason` values. */
export type DeadLetterReason = 'expired' | 'delivery_limit';

/** Where a queue sends what it dead-letters: the broker routes it to the DLX. */
export type DeadLetterSink = (
  queue: MemoryQueue,
  message: StoredMessage,
  reason: DeadLetterReason,
) => void;

/** One `consume()` on a queue: its handler, prefetch window and unsettled deliveries. */
export class ConsumerSlot {
  readonly unacked = new Set<MemoryDelivery>();
  /** Handlers that have not returned yet, including ones whose deliveries a kill orphaned. */
  running = 0;
  active = true;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly queue: MemoryQueue,
    readonly handler: DeliveryHandler,
    readonly prefetch: number,
  ) {}

  /** Whether the prefetch window has room for another delivery. */
  hasCapacity(): boolean {
    return this.active && this.unacked.size < this.prefetch;
  }

  /** Resolves once no handler of this consumer is running. */
  whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  handlerFinished(): void {
    this.running -= 1;
    if (this.running > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** A delivery handed to a consumer; settling it twice or after a kill does nothing. */
export class MemoryDelivery implements Delivery {
  settled = false;

  constructor(
    readonly message: StoredMessage,
    private readonly slot: ConsumerSlot,
  ) {}

  get body(): Buffer {
    return this.message.payload.body;
  }
  get envelope(): Envelope | undefined {
    return this.message.payload.envelope;
  }
  get headers(): Readonly<Headers> {
    return this.message.headers;
  }
  get exchange(): string {
    return this.message.exchange;
  }
  get routingKey(): string {
    return this.message.routingKey;
  }
  get messageId(): string | undefined {
    return this.message.messageId;
  }
  get redelivered(): boolean {
    return this.message.redelivered;
  }
  get deliveryCount(): number {
    return this.message.deliveryCount;
  }

  ack(): void {
    if (!this.release()) return;
    this.slot.queue.scheduleDrain();
  }

  requeue(): void {
    if (!this.release()) return;
    this.slot.queue.returnFailed(this.message);
  }

  /** Detaches the delivery from its consumer; false when it was already settled. */
  release(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.slot.unacked.delete(this);
    return true;
  }
}

const RESOLVED = Promise.resolve();

/** Depth beyond which a consumed queue slows its publishers down (see `backlogged`). */
const BACKLOG_HIGH_WATER = 1024;

/** Dispatches this many deliveries per queue on microtasks before yielding to I/O once. */
const DISPATCHES_PER_TURN = 2048;

/**
 * A quorum-queue model: FIFO with returned messages served first (as rabbit_fifo does),
 * per-queue message TTL and delivery limit that dead-letter, and round-robin dispatch over
 * consumers within their prefetch windows.
 */
export class MemoryQueue {
  private readonly ready = new Deque<StoredMessage>();
  private readonly returned = new Deque<StoredMessage>();
  private readonly consumers: ConsumerSlot[] = [];
  private nextConsumer = 0;
  private drainScheduled = false;
  private dispatchedThisTurn = 0;
  private ttlTimer: NodeJS.Timeout | undefined;
  private ttlDueAt = Infinity;

  constructor(
    readonly spec: QueueSpec,
    private readonly deadLetter: DeadLetterSink,
  ) {}

  /** Messages waiting for a consumer (not counting unacked ones). */
  get depth(): number {
    return this.ready.length + this.returned.length;
  }

  /**
   * A consumed queue far behind its producers. Publishers to it wait a turn of the event
   * loop, like RabbitMQ's flow control: otherwise a producer running on microtasks would
   * fill memory while the consumers, which yield to I/O between batches, never catch up.
   */
  get backlogged(): boolean {
    return this.consumers.length > 0 && this.ready.length > BACKLOG_HIGH_WATER;
  }

  /** Takes a newly routed message; the publish is confirmed once this returns. */
  enqueue(message: Omit<StoredMessage, 'expiresAt' | 'deliveryCount' | 'redelivered'>): void {
    const ttl = this.spec.messageTtlMs;
    const expiresAt = ttl === undefined ? Infinity : Date.now() + ttl;
    // An explicit literal, not a spread: this runs once per message per queue.
    this.ready.push({
      payload: message.payload,
      headers: message.headers,
      exchange: message.exchange,
      routingKey: message.routingKey,
      messageId: message.messageId,
      type: message.type,
      deliveryCount: 0,
      redelivered: false,
      expiresAt,
    });
    if (expiresAt !== Infinity) this.armTtlTimer(expiresAt);
    if (this.consumers.length > 0) this.scheduleDrain();
  }

  /**
   * Puts back a delivery nobody acked. It counts as a failed delivery, which is what lets the
   * delivery limit stop a message that crashes every consumer it reaches.
   */
  returnFailed(message: StoredMessage): void {
    const deliveryCount = message.deliveryCount + 1;
    const limit = this.spec.deliveryLimit;
    if (limit !== undefined && deliveryCount > limit) {
      this.deadLetter(this, message, 'delivery_limit');
    } else {
      this.returned.push({ ...message, deliveryCount, redelivered: true });
      if (message.expiresAt !== Infinity) this.armTtlTimer(message.expiresAt);
    }
    this.scheduleDrain();
  }

  addConsumer(slot: ConsumerSlot): void {
    this.consumers.push(slot);
    this.scheduleDrain();
  }

  removeConsumer(slot: ConsumerSlot): void {
    const index = this.consumers.indexOf(slot);
    if (index >= 0) this.consumers.splice(index, 1);
  }

  /** Coalesces every wake-up of one turn into a single drain. */
  scheduleDrain(): void {
    if (this.drainScheduled || this.consumers.length === 0 || this.depth === 0) return;
    this.drainScheduled = true;
    if (this.dispatchedThisTurn < DISPATCHES_PER_TURN) {
      // A resolved promise, not queueMicrotask: Node wraps each queueMicrotask callback in
      // an AsyncResource, a measurable cost at one drain per ack.
      void RESOLVED.then(() => this.drain());
    } else {
      // A long run of microtasks would starve timers and sockets; yield once per batch.
      setImmediate(() => {
        this.dispatchedThisTurn = 0;
        this.drain();
      });
    }
  }

  /** Stops the TTL timer (the broker is going away). */
  dispose(): void {
    if (this.ttlTimer !== undefined) clearTimeout(this.ttlTimer);
    this.ttlTimer = undefined;
    this.ttlDueAt = Infinity;
  }

  private drain(): void {
    this.drainScheduled = false;
    const hasTtl = this.spec.messageTtlMs !== undefined || this.returnedMayExpire();
    const now = hasTtl ? Date.now() : 0;
    while (this.depth > 0) {
      const slot = this.pickConsumer();
      if (slot === undefined) return;
      const message = (
        this.returned.length > 0 ? this.returned.shift() : this.ready.shift()
      ) as StoredMessage;
      if (message.expiresAt <= now) {
        this.deadLetter(this, message, 'expired');
        continue;
      }
      this.dispatch(slot, message);
    }
  }

  private returnedMayExpire(): boolean {
    const head = this.returned.peek();
    return head !== undefined && head.expiresAt !== Infinity;
  }

  private pickConsumer(): ConsumerSlot | undefined {
    const count = this.consumers.length;
    for (let i = 0; i < count; i += 1) {
      const index = (this.nextConsumer + i) % count;
      const slot = this.consumers[index];
      if (slot?.hasCapacity()) {
        this.nextConsumer = index + 1;
        return slot;
      }
    }
    return undefined;
  }

  private dispatch(slot: ConsumerSlot, message: StoredMessage): void {
    const delivery = new MemoryDelivery(message, slot);
    slot.unacked.add(delivery);
    slot.running += 1;
    this.dispatchedThisTurn += 1;
    // A handler that throws has its delivery requeued (a no-op if it settled it first), as
    // a channel error would on RabbitMQ: a failure never turns into a silent ack.
    const failed = (): void => {
      delivery.requeue();
      slot.handlerFinished();
    };
    let handled: Promise<void>;
    try {
      handled = slot.handler(delivery);
    } catch {
      failed();
      return;
    }
    void handled.then(() => slot.handlerFinished(), failed);
  }

  private armTtlTimer(dueAt: number): void {
    if (this.ttlTimer !== undefined && this.ttlDueAt <= dueAt) return;
    if (this.ttlTimer !== undefined) clearTimeout(this.ttlTimer);
    this.ttlDueAt = dueAt;
    this.ttlTimer = setTimeout(() => this.expireDue(), Math.max(0, dueAt - Date.now()));
    this.ttlTimer.unref();
  }

  /** Dead-letters every expired message at the heads (one TTL per queue keeps them in order). */
  private expireDue(): void {
    this.ttlTimer = undefined;
    this.ttlDueAt = Infinity;
    const now = Date.now();
    for (const deque of [this.returned, this.ready]) {
      for (
        let head = deque.peek();
        head !== undefined && head.expiresAt <= now;
        head = deque.peek()
      ) {
        deque.shift();
        this.deadLetter(this, head, 'expired');
      }
    }
    const next = Math.min(
      this.returned.peek()?.expiresAt ?? Infinity,
      this.ready.peek()?.expiresAt ?? Infinity,
    );
    if (next !== Infinity) this.armTtlTimer(next);
  }
}
