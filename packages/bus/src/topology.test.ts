import { describe, expect, it } from 'vitest';
import { MESSAGE_SCHEMAS } from '@relais/domain';
import { EXCHANGE_OF, buildTopology, relaisWorkQueues } from './topology';

describe('topology', () => {
  const topology = buildTopology({
    namespace: 'ns',
    retryTiersMs: [1000, 60000],
    queues: relaisWorkQueues('ns', ['shared', 'dedicated']),
  });
  const queue = (name: string) => topology.queues.find((q) => q.name === name);

  it('routes every message type to one of its exchanges', () => {
    const names = new Set(topology.exchanges.map((e) => e.name));
    for (const type of Object.keys(MESSAGE_SCHEMAS) as (keyof typeof EXCHANGE_OF)[]) {
      expect(names.has(`ns.${EXCHANGE_OF[type]}`)).toBe(true);
    }
  });

  it('gives each delay tier a TTL queue that dead-letters back through requeue', () => {
    expect(queue('ns.retry.60000ms')).toMatchObject({
      messageTtlMs: 60000,
      deadLetterExchange: 'ns.requeue',
      bindings: [{ exchange: 'ns.retry.60000ms', routingKey: '' }],
    });
  });

  it('binds every work queue to requeue under its own name and dead-letters crash loops', () => {
    const relay = queue('ns.relay.shared.transactional');
    expect(relay?.bindings).toEqual([
      { exchange: 'ns.outbound', routingKey: 'shared.transactional' },
      { exchange: 'ns.requeue', routingKey: 'ns.relay.shared.transactional' },
    ]);
    expect(relay?.deadLetterExchange).toBe('ns.dead');
    expect(relay?.deliveryLimit).toBeGreaterThan(0);
  });

  it('keeps transactional and bulk mail of a pool in separate queues', () => {
    expect(queue('ns.relay.dedicated.transactional')).toBeDefined();
    expect(queue('ns.relay.dedicated.marketing')).toBeDefined();
  });
});
