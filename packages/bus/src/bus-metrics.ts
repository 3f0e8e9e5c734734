import { counter, histogram, type Registry } from '@relais/telemetry';

/** How a consumed message ended; the `outcome` label. */
export type ConsumeOutcome = 'acked' | 'retried' | 'dead_lettered' | 'duplicate';

/** The bus's metrics, with label children cached: `labels()` hashes on every call. */
export interface BusMetrics {
  published(exchange: string, type: string): void;
  consumed(queue: string, type: string, outcome: ConsumeOutcome): void;
  handlerSeconds(queue: string, type: string, seconds: number): void;
}

const NO_METRICS: BusMetrics = {
  published: () => {},
  consumed: () => {},
  handlerSeconds: () => {},
};

/** Registers the bus metrics on `registry`; without one, recording costs nothing. */
export function createBusMetrics(registry: Registry | undefined): BusMetrics {
  if (registry === undefined) return NO_METRICS;
  const published = counter(
    registry,
    'relais_bus_published_total',
    'Messages confirmed by the broker.',
    ['exchange', 'type'],
  );
  const consumed = counter(
    registry,
    'relais_bus_consumed_total',
    'Messages settled by consumers, by outcome.',
    ['queue', 'type', 'outcome'],
  );
  const duration = histogram(registry, 'relais_bus_handler_duration_seconds', 'Handler run time.', [
    'queue',
    'type',
  ]);
  const children = new Map<string, unknown>();
  const child = <T extends object>(key: string, make: () => T): T => {
    let found = children.get(key) as T | undefined;
    if (found === undefined) {
      found = make();
      children.set(key, found);
    }
    return found;
  };
  return {
    published(exchange, type) {
      child(`p\u0000${exchange}\u0000${type}`, () => published.labels(exchange, type)).inc();
    },
    consumed(queue, type, outcome) {
      child(`c\u0000${queue}\u0000${type}\u0000${outcome}`, () =>
        consumed.labels(queue, type, outcome),
      ).inc();
    },
    handlerSeconds(queue, type, seconds) {
      child(`h\u0000${queue}\u0000${type}`, () => duration.labels(queue, type)).observe(seconds);
    },
  };
}
