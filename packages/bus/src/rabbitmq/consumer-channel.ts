import type { Channel, Message } from 'amqplib';

type Settlement = 'ack-pending' | 'sent';

/**
 * One consumer channel's life and its acknowledgements. On a quorum queue every
 * basic.ack is a command the broker writes to its Raft log, so acks settled in the same
 * turn of the event loop are coalesced into one `multiple` ack for the longest settled
 * prefix of delivery tags; acks past a gap (a slower handler still running) go out singly
 * at once, so a slow message never holds back its neighbours' prefetch slots.
 */
export class ConsumerChannel {
  /** False once the channel closed: its deliveries are back on the broker, settling is moot. */
  alive = true;
  // Delivery tags in arrival order, from `head` on still unsettled at the broker.
  private tags: number[] = [];
  private head = 0;
  private readonly settled = new Map<number, Settlement>();
  // Acks settled since the last flush. Kept apart from `settled` so a flush costs what
  // settled since the last one, not the whole backlog acked singly behind a gap (a message
  // held for seconds by a slow destination has thousands of neighbours settled behind it).
  private fresh: number[] = [];
  private flushScheduled = false;

  constructor(readonly channel: Channel) {}

  /** Records a delivery in arrival order (the order of its tag). */
  received(deliveryTag: number): void {
    this.tags.push(deliveryTag);
  }

  ack(deliveryTag: number): void {
    if (!this.alive) return;
    this.settled.set(deliveryTag, 'ack-pending');
    this.fresh.push(deliveryTag);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Nacks with requeue straight away: the message should be available again now. */
  requeue(message: Message): void {
    if (!this.alive) return;
    this.settled.set(message.fields.deliveryTag, 'sent');
    this.send(() => this.channel.nack(message, false, true));
  }

  /** Sends every pending ack now (also before the channel is closed on purpose). */
  flush(): void {
    this.flushScheduled = false;
    if (!this.alive) return;
    let upTo = -1;
    while (this.head < this.tags.length) {
      const tag = this.tags[this.head] as number;
      const state = this.settled.get(tag);
      if (state === undefined) break;
      if (state === 'ack-pending') upTo = tag;
      this.settled.delete(tag);
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.tags.length) {
      this.tags = this.tags.slice(this.head);
      this.head = 0;
    }
    // Covers the whole prefix: tags in it that were already nacked or acked singly are no
    // longer outstanding at the broker, so `multiple` skips them.
    if (upTo >= 0) this.send(() => this.channel.ack(tagOnly(upTo), true));
    const fresh = this.fresh;
    this.fresh = [];
    // What the prefix did not cover waits behind a gap: acked singly, and remembered as
    // sent so the prefix can pass it once the gap closes.
    for (const tag of fresh) {
      if (this.settled.get(tag) !== 'ack-pending') continue;
      this.settled.set(tag, 'sent');
      this.send(() => this.channel.ack(tagOnly(tag), false));
    }
  }

  private send(frame: () => void): void {
    try {
      frame();
    } catch {
      // The channel closed under us: the broker redelivers whatever was not settled.
      this.alive = false;
    }
  }
}

/** amqplib reads only `fields.deliveryTag` when acking. */
function tagOnly(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as unknown as Message;
}
