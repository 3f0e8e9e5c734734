import type { MessageType } from '@relais/domain';

/**
 * The bus topology of the architecture brief, declared from this one definition by every
 * adapter. Names carry a namespace (default `relais`) so tests and tenants of a shared
 * broker can own an isolated copy.
 */

export type ExchangeKind = 'topic' | 'direct' | 'fanout';

export interface ExchangeSpec {
  name: string;
  kind: ExchangeKind;
}

export interface BindingSpec {
  exchange: string;
  routingKey: string;
}

export interface QueueSpec {
  name: string;
  /** Every queue is a durable quorum queue: replicated, and it counts redeliveries. */
  messageTtlMs?: number;
  deadLetterExchange?: string;
  deadLetterRoutingKey?: string;
  /** Deliveries after which the broker dead-letters a message nobody acks (crash loops). */
  deliveryLimit?: number;
  bindings: BindingSpec[];
}

export interface Topology {
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
}

/** The logical exchanges; `exchangeName` gives their namespaced names. */
export type ExchangeRole =
  'campaign' | 'dispatch' | 'outbound' | 'events' | 'retry' | 'requeue' | 'dead';

const EXCHANGE_KINDS: Record<ExchangeRole, ExchangeKind> = {
  campaign: 'topic',
  dispatch: 'topic',
  // Routing key = `<pool>.<class>`: each pool has separate transactional and bulk queues
  // so transactional mail never waits behind a bulk campaign.
  outbound: 'direct',
  events: 'topic',
  // Retry: one fanout exchange per delay tier (see `retryExchangeName`); this one is unused
  // except as the prefix. Requeue: where expired delay-queue messages come back, routed
  // by their original queue name.
  retry: 'direct',
  requeue: 'direct',
  dead: 'fanout',
};

/** Which exchange each message type is published to; the compiler checks it is complete. */
export const EXCHANGE_OF: Record<MessageType, ExchangeRole> = {
  'campaign.launched': 'campaign',
  'campaign.paused': 'campaign',
  'campaign.resumed': 'campaign',
  'campaign.cancelled': 'campaign',
  'campaign.completed': 'campaign',
  'campaign.pause': 'campaign',
  'dispatch.batch': 'dispatch',
  'outbound.send': 'outbound',
  'delivery.delivered': 'events',
  'delivery.deferred': 'events',
  'delivery.bounced': 'events',
  'delivery.expired': 'events',
  'complaint.received': 'events',
  'suppression.added': 'events',
  'engagement.opened': 'events',
  'engagement.clicked': 'events',
  'engagement.unsubscribed': 'events',
  'engagement.converted': 'events',
};

export function exchangeName(namespace: string, role: ExchangeRole): string {
  return `${namespace}.${role}`;
}

export function retryExchangeName(namespace: string, tierMs: number): string {
  return `${namespace}.retry.${tierMs}ms`;
}

export function retryQueueName(namespace: string, tierMs: number): string {
  return `${namespace}.retry.${tierMs}ms`;
}

export function deadLetterQueueName(namespace: string): string {
  return `${namespace}.dead-letter`;
}

/** A work queue some service consumes. Retry/requeue plumbing is added by `buildTopology`. */
export interface WorkQueue {
  name: string;
  bindings: { exchange: ExchangeRole; routingKey: string }[];
}

export interface TopologyOptions {
  namespace?: string;
  /** Delay tiers for retries, shortest first; a retry picks the tier by attempt number. */
  retryTiersMs?: number[];
  /** Broker-side delivery limit for crash loops (handler never returned). */
  deliveryLimit?: number;
  queues: WorkQueue[];
}

export const DEFAULT_RETRY_TIERS_MS = [1_000, 10_000, 60_000, 600_000];
export const DEFAULT_DELIVERY_LIMIT = 10;

/**
 * Expands work queues into the full topology: the fixed exchanges, one delay queue per
 * retry tier (TTL, then dead-lettered to `requeue` with the original queue name as routing
 * key), each work queue bound to `requeue` under its own name, and the dead-letter queue.
 */
export function buildTopology(options: TopologyOptions): Topology {
  const ns = options.namespace ?? 'relais';
  const tiers = options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS;
  const deliveryLimit = options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
  const roles = Object.keys(EXCHANGE_KINDS) as ExchangeRole[];
  const exchanges: ExchangeSpec[] = roles.map((role) => ({
    name: exchangeName(ns, role),
    kind: EXCHANGE_KINDS[role],
  }));
  const queues: QueueSpec[] = [];
  for (const tierMs of tiers) {
    exchanges.push({ name: retryExchangeName(ns, tierMs), kind: 'fanout' });
    queues.push({
      name: retryQueueName(ns, tierMs),
      messageTtlMs: tierMs,
      deadLetterExchange: exchangeName(ns, 'requeue'),
      bindings: [{ exchange: retryExchangeName(ns, tierMs), routingKey: '' }],
    });
  }
  queues.push({
    name: deadLetterQueueName(ns),
    bindings: [{ exchange: exchangeName(ns, 'dead'), routingKey: '' }],
  });
  for (const queue of options.queues) {
    queues.push({
      name: queue.name,
      deliveryLimit,
      deadLetterExchange: exchangeName(ns, 'dead'),
      bindings: [
        ...queue.bindings.map((b) => ({
          exchange: exchangeName(ns, b.exchange),
          routingKey: b.routingKey,
        })),
        { exchange: exchangeName(ns, 'requeue'), routingKey: queue.name },
      ],
    });
  }
  return { exchanges, queues };
}

/**
 * The work queues of the six services, as the architecture brief lays them out. Pools are
 * configuration: each gets a transactional and a bulk queue.
 */
export function relaisWorkQueues(namespace = 'relais', pools: string[] = ['default']): WorkQueue[] {
  const q = (name: string) => `${namespace}.${name}`;
  return [
    {
      name: q('segmentation.campaign'),
      bindings: [{ exchange: 'campaign', routingKey: 'campaign.*' }],
    },
    {
      // Commands to the campaign service (a breaker's pause); its other queues are HTTP.
      name: q('campaign.commands'),
      bindings: [{ exchange: 'campaign', routingKey: 'campaign.pause' }],
    },
    {
      name: q('dispatcher.batches'),
      bindings: [{ exchange: 'dispatch', routingKey: 'dispatch.#' }],
    },
    ...pools.flatMap((pool) =>
      (['transactional', 'marketing'] as const).map((cls) => ({
        name: q(`relay.${pool}.${cls}`),
        bindings: [{ exchange: 'outbound' as const, routingKey: `${pool}.${cls}` }],
      })),
    ),
    {
      name: q('bounce.events'),
      bindings: [{ exchange: 'events', routingKey: 'delivery.bounced' }],
    },
    {
      name: q('analytics.events'),
      bindings: [
        { exchange: 'events', routingKey: '#' },
        { exchange: 'campaign', routingKey: 'campaign.*' },
      ],
    },
  ];
}
