import { RelaisError } from '@relais/domain';
import type { Topology } from '../topology';
import type {
  ConsumeOptions,
  DeliveryHandler,
  OutgoingMessage,
  Subscription,
  Transport,
} from '../transport';
import { MemoryBroker } from './memory-broker';
import { ConsumerSlot } from './memory-queue';

/** The in-memory Transport, plus the hooks tests and the embedded mode need. */
export interface MemoryTransport extends Transport {
  /**
   * Simulates a dropped connection: every unacked delivery goes back to its queue as
   * redelivered (and counts toward the delivery limit), later acks of those deliveries are
   * ignored, and the subscriptions resume, as the reconnecting RabbitMQ adapter's do.
   */
  debugKillConnection(): Promise<void>;
  /** Messages waiting in a queue (RabbitMQ's `messageCount`); unacked ones are not counted. */
  queueDepth(queue: string): number;
}

export interface MemoryTransportOptions {
  /** Share a broker between transports (one per service in embedded mode); default: a new one. */
  broker?: MemoryBroker;
}

let turn: Promise<void> | undefined;

/** One shared promise per event-loop turn, so a throttled burst does not queue a timer each. */
function nextTurn(): Promise<void> {
  turn ??= new Promise((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve();
    }),
  );
  return turn;
}

/** Creates an in-process transport with RabbitMQ's semantics for the relais topology. */
export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  const ownsBroker = options.broker === undefined;
  const broker = options.broker ?? new MemoryBroker();
  const slots = new Set<ConsumerSlot>();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new RelaisError('BUS_CLOSED', 'the memory transport is closed');
  };

  const cancel = async (slot: ConsumerSlot): Promise<void> => {
    if (!slot.active) return slot.whenIdle();
    slot.active = false;
    slot.queue.removeConsumer(slot);
    await slot.whenIdle();
    // A cancelled consumer's leftovers go back, as when its channel closes on RabbitMQ.
    for (const delivery of [...slot.unacked]) {
      if (delivery.release()) slot.queue.returnFailed(delivery.message);
    }
    slots.delete(slot);
  };

  return {
    async declare(topology: Topology): Promise<void> {
      ensureOpen();
      broker.declare(topology);
    },

    async publish(message: OutgoingMessage): Promise<void> {
      ensureOpen();
      const queues = broker.publish(message);
      if (queues.length === 0) {
        throw new RelaisError('BUS_PUBLISH_FAILED', 'message is unroutable', {
          details: { exchange: message.exchange, routingKey: message.routingKey },
        });
      }
      if (queues.some((queue) => queue.backlogged)) await nextTurn();
    },

    async consume(
      queue: string,
      onDelivery: DeliveryHandler,
      consume: ConsumeOptions,
    ): Promise<Subscription> {
      ensureOpen();
      if (!Number.isInteger(consume.prefetch) || consume.prefetch < 1) {
        throw new RelaisError('VALIDATION_FAILED', 'prefetch must be a positive integer', {
          details: { prefetch: consume.prefetch },
        });
      }
      const target = broker.queue(queue);
      const slot = new ConsumerSlot(target, onDelivery, consume.prefetch);
      slots.add(slot);
      target.addConsumer(slot);
      return { cancel: () => cancel(slot) };
    },

    async ping(): Promise<void> {
      if (closed) throw new RelaisError('BUS_UNAVAILABLE', 'the memory transport is closed');
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all([...slots].map((slot) => cancel(slot)));
      if (ownsBroker) broker.dispose();
    },

    async debugKillConnection(): Promise<void> {
      ensureOpen();
      for (const slot of slots) {
        for (const delivery of [...slot.unacked]) {
          if (delivery.release()) slot.queue.returnFailed(delivery.message);
        }
      }
    },

    queueDepth(queue: string): number {
      return broker.queue(queue).depth;
    },
  };
}
