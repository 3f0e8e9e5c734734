import { RelaisError } from '@relais/domain';
import type { ExchangeKind, QueueSpec, Topology } from '../topology';
import type { OutgoingMessage } from '../transport';
import { MemoryQueue, type DeadLetterReason, type StoredMessage } from './memory-queue';
import { compileTopicPattern, type TopicMatcher } from './topic-matcher';

interface Binding {
  queue: MemoryQueue;
  routingKey: string;
  matches: TopicMatcher;
}

/** Route lookups cached per exchange; bounded because routing keys can be open-ended. */
const ROUTE_CACHE_LIMIT = 4096;

class MemoryExchange {
  readonly bindings: Binding[] = [];
  private routes = new Map<string, MemoryQueue[]>();

  constructor(
    readonly name: string,
    readonly kind: ExchangeKind,
  ) {}

  bind(queue: MemoryQueue, routingKey: string): void {
    if (this.bindings.some((b) => b.queue === queue && b.routingKey === routingKey)) return;
    const matches: TopicMatcher =
      this.kind === 'topic' ? compileTopicPattern(routingKey) : (key) => key === routingKey;
    this.bindings.push({ queue, routingKey, matches });
    this.routes.clear();
  }

  /** The queues a routing key reaches; a queue bound twice still gets one copy. */
  route(routingKey: string): MemoryQueue[] {
    const cached = this.routes.get(routingKey);
    if (cached !== undefined) return cached;
    const targets = new Set<MemoryQueue>();
    for (const binding of this.bindings) {
      if (this.kind === 'fanout' || binding.matches(routingKey)) targets.add(binding.queue);
    }
    const queues = [...targets];
    if (this.routes.size >= ROUTE_CACHE_LIMIT) this.routes.clear();
    this.routes.set(routingKey, queues);
    return queues;
  }
}

/**
 * The in-process broker: exchanges, queues and bindings shared by every memory transport
 * ("connection") created on it, the way several services share one RabbitMQ.
 */
export class MemoryBroker {
  private readonly exchanges = new Map<string, MemoryExchange>();
  private readonly queues = new Map<string, MemoryQueue>();

  /** Declares a topology; re-declaring with different arguments fails as on RabbitMQ. */
  declare(topology: Topology): void {
    for (const spec of topology.exchanges) {
      const existing = this.exchanges.get(spec.name);
      if (existing === undefined) {
        this.exchanges.set(spec.name, new MemoryExchange(spec.name, spec.kind));
      } else if (existing.kind !== spec.kind) {
        throw new RelaisError(
          'CONFIG_INVALID',
          `exchange ${spec.name} exists with kind ${existing.kind}`,
          {
            details: { exchange: spec.name, declared: spec.kind, existing: existing.kind },
          },
        );
      }
    }
    for (const spec of topology.queues) {
      const queue = this.declareQueue(spec);
      for (const binding of spec.bindings) {
        const exchange = this.exchanges.get(binding.exchange);
        if (exchange === undefined) {
          throw new RelaisError(
            'NOT_FOUND',
            `cannot bind ${spec.name}: no exchange ${binding.exchange}`,
            {
              details: { queue: spec.name, exchange: binding.exchange },
            },
          );
        }
        exchange.bind(queue, binding.routingKey);
      }
    }
  }

  /** Routes a message to its queues and returns them (none = unroutable). */
  publish(message: OutgoingMessage): readonly MemoryQueue[] {
    const exchange = this.exchanges.get(message.exchange);
    if (exchange === undefined) {
      throw new RelaisError('BUS_PUBLISH_FAILED', `no exchange ${message.exchange}`, {
        details: { exchange: message.exchange },
      });
    }
    const queues = exchange.route(message.routingKey);
    if (queues.length === 0) return queues;
    // One copy of the headers per publish: a caller mutating its object later must not
    // change what was "sent", as serialization guarantees on a real broker.
    const stored = {
      // A MessageBus message is immutable and may encode lazily: keep it, do not read it.
      payload: message.envelope === undefined ? { body: message.body } : message,
      // A MessageBus message owns a fresh headers object it never touches again.
      headers:
        message.headers === undefined
          ? EMPTY_HEADERS
          : message.envelope === undefined
            ? { ...message.headers }
            : message.headers,
      exchange: message.exchange,
      routingKey: message.routingKey,
      messageId: message.messageId,
      type: message.type,
    };
    for (const queue of queues) queue.enqueue(stored);
    return queues;
  }

  /** The queue called `name`; NOT_FOUND when it was never declared. */
  queue(name: string): MemoryQueue {
    const queue = this.queues.get(name);
    if (queue === undefined) {
      throw new RelaisError('NOT_FOUND', `no queue ${name}`, { details: { queue: name } });
    }
    return queue;
  }

  /** Stops every TTL timer. */
  dispose(): void {
    for (const queue of this.queues.values()) queue.dispose();
  }

  private declareQueue(spec: QueueSpec): MemoryQueue {
    const existing = this.queues.get(spec.name);
    if (existing === undefined) {
      const queue = new MemoryQueue(spec, (from, message, reason) =>
        this.deadLetter(from, message, reason),
      );
      this.queues.set(spec.name, queue);
      return queue;
    }
    for (const key of [
      'messageTtlMs',
      'deadLetterExchange',
      'deadLetterRoutingKey',
      'deliveryLimit',
    ] as const) {
      if (existing.spec[key] !== spec[key]) {
        throw new RelaisError(
          'CONFIG_INVALID',
          `queue ${spec.name} exists with a different ${key}`,
          {
            details: { queue: spec.name, argument: key },
          },
        );
      }
    }
    return existing;
  }

  /**
   * RabbitMQ dead-lettering: republish to the queue's DLX with its dead-letter routing key or
   * the original one, recording the first death; with no DLX, or nowhere to route, it is dropped.
   */
  private deadLetter(from: MemoryQueue, message: StoredMessage, reason: DeadLetterReason): void {
    const dlx = from.spec.deadLetterExchange;
    if (dlx === undefined || !this.exchanges.has(dlx)) return;
    const headers = { ...message.headers };
    if (headers['x-first-death-reason'] === undefined) {
      headers['x-first-death-reason'] = reason;
      headers['x-first-death-queue'] = from.spec.name;
      headers['x-first-death-exchange'] = message.exchange;
    }
    this.publish({
      exchange: dlx,
      routingKey: from.spec.deadLetterRoutingKey ?? message.routingKey,
      body: message.payload.body,
      ...(message.payload.envelope === undefined ? {} : { envelope: message.payload.envelope }),
      headers,
      ...(message.messageId === undefined ? {} : { messageId: message.messageId }),
      ...(message.type === undefined ? {} : { type: message.type }),
    });
  }
}

const EMPTY_HEADERS: Readonly<Record<string, never>> = Object.freeze({});
