import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Topology } from '../topology';
import type { Delivery } from '../transport';
import { createMemoryTransport, type MemoryTransport } from './memory-transport';

const body = (text: string) => Buffer.from(text);

/** A delay queue dead-lettering to a work queue, like one retry tier of the relais topology. */
const topology: Topology = {
  exchanges: [
    { name: 'delay', kind: 'fanout' },
    { name: 'back', kind: 'direct' },
    { name: 'dead', kind: 'fanout' },
    { name: 'events', kind: 'topic' },
  ],
  queues: [
    {
      name: 'delay.q',
      messageTtlMs: 1000,
      deadLetterExchange: 'back',
      bindings: [{ exchange: 'delay', routingKey: '' }],
    },
    {
      name: 'work',
      deliveryLimit: 2,
      deadLetterExchange: 'dead',
      bindings: [
        { exchange: 'back', routingKey: 'work' },
        { exchange: 'events', routingKey: 'delivery.*' },
        { exchange: 'events', routingKey: '#.bounced' },
      ],
    },
    {
      name: 'rekeyed',
      messageTtlMs: 10,
      deadLetterExchange: 'back',
      deadLetterRoutingKey: 'work',
      bindings: [],
    },
    { name: 'dead.q', bindings: [{ exchange: 'dead', routingKey: '' }] },
  ],
};

/** Drains a queue into an array, acking each delivery unless told otherwise. */
async function collect(transport: MemoryTransport, queue: string, prefetch = 100, ack = true) {
  const deliveries: Delivery[] = [];
  const subscription = await transport.consume(
    queue,
    async (delivery) => {
      deliveries.push(delivery);
      if (ack) delivery.ack();
    },
    { prefetch },
  );
  return { deliveries, subscription };
}

describe('memory transport', () => {
  let transport: MemoryTransport;
  beforeEach(async () => {
    transport = createMemoryTransport();
    await transport.declare(topology);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await transport.close();
  });

  it('routes a topic publish to a queue once even when two bindings match', async () => {
    await transport.publish({
      exchange: 'events',
      routingKey: 'delivery.bounced',
      body: body('x'),
    });
    expect(transport.queueDepth('work')).toBe(1);
  });

  it('rejects an unroutable publish and one to an unknown exchange', async () => {
    await expect(
      transport.publish({ exchange: 'events', routingKey: 'nope', body: body('x') }),
    ).rejects.toMatchObject({
      code: 'BUS_PUBLISH_FAILED',
    });
    await expect(
      transport.publish({ exchange: 'nope', routingKey: 'x', body: body('x') }),
    ).rejects.toMatchObject({
      code: 'BUS_PUBLISH_FAILED',
    });
  });

  it('refuses to re-declare a queue with different arguments', async () => {
    const changed: Topology = {
      exchanges: [],
      queues: [{ name: 'work', deliveryLimit: 5, bindings: [] }],
    };
    await expect(transport.declare(changed)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(transport.declare(topology)).resolves.toBeUndefined();
  });

  it('dead-letters an expired message to its DLX under the original routing key, not before the TTL', async () => {
    vi.useFakeTimers();
    await transport.publish({
      exchange: 'delay',
      routingKey: 'work',
      body: body('later'),
      headers: { a: 1 },
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(transport.queueDepth('work')).toBe(0);
    expect(transport.queueDepth('delay.q')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(transport.queueDepth('delay.q')).toBe(0);
    const { deliveries } = await collect(transport, 'work');
    await vi.advanceTimersByTimeAsync(0);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      exchange: 'back',
      routingKey: 'work',
      redelivered: false,
      deliveryCount: 0,
    });
    expect(deliveries[0]?.headers).toMatchObject({
      a: 1,
      'x-first-death-reason': 'expired',
      'x-first-death-queue': 'delay.q',
      'x-first-death-exchange': 'delay',
    });
  });

  it('expires messages published at different times each after its own TTL', async () => {
    vi.useFakeTimers();
    await transport.publish({ exchange: 'delay', routingKey: 'work', body: body('1') });
    await vi.advanceTimersByTimeAsync(400);
    await transport.publish({ exchange: 'delay', routingKey: 'work', body: body('2') });
    await vi.advanceTimersByTimeAsync(600);
    expect(transport.queueDepth('work')).toBe(1);
    await vi.advanceTimersByTimeAsync(399);
    expect(transport.queueDepth('work')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(transport.queueDepth('work')).toBe(2);
  });

  it('uses the dead-letter routing key when the queue sets one', async () => {
    vi.useFakeTimers();
    await transport.declare({
      exchanges: [{ name: 'direct-in', kind: 'direct' }],
      queues: [{ ...topology.queues[2]!, bindings: [{ exchange: 'direct-in', routingKey: 'k' }] }],
    });
    await transport.publish({ exchange: 'direct-in', routingKey: 'k', body: body('x') });
    await vi.advanceTimersByTimeAsync(10);
    expect(transport.queueDepth('work')).toBe(1);
  });

  it('arms one TTL timer per queue, whatever its depth', async () => {
    vi.useFakeTimers();
    await transport.publish({ exchange: 'delay', routingKey: 'work', body: body('x') });
    expect(vi.getTimerCount()).toBe(1);
    await transport.publish({ exchange: 'delay', routingKey: 'work', body: body('y') });
    expect(vi.getTimerCount()).toBe(1);
  });

  it('never keeps the process alive for a TTL timer', async () => {
    const created: NodeJS.Timeout[] = [];
    const real = globalThis.setTimeout;
    const spy = vi
      .spyOn(globalThis, 'setTimeout')
      .mockImplementation((fn: () => void, ms?: number) => {
        const timer = real(fn, ms);
        created.push(timer);
        return timer;
      });
    try {
      await transport.publish({ exchange: 'delay', routingKey: 'work', body: body('x') });
    } finally {
      spy.mockRestore();
    }
    expect(created).toHaveLength(1);
    expect(created[0]?.hasRef()).toBe(false);
  });

  it('counts requeues and dead-letters a message past the delivery limit', async () => {
    await transport.publish({ exchange: 'back', routingKey: 'work', body: body('poison') });
    const seen: number[] = [];
    await transport.consume(
      'work',
      async (delivery) => {
        seen.push(delivery.deliveryCount);
        delivery.requeue();
      },
      { prefetch: 1 },
    );
    const dead = await collect(transport, 'dead.q');
    await vi.waitFor(() => expect(dead.deliveries).toHaveLength(1));
    expect(seen).toEqual([0, 1, 2]);
    expect(dead.deliveries[0]?.headers['x-first-death-reason']).toBe('delivery_limit');
  });

  it('keeps at most `prefetch` deliveries unacked per consumer and round-robins between consumers', async () => {
    for (let i = 0; i < 6; i += 1)
      await transport.publish({ exchange: 'back', routingKey: 'work', body: body(String(i)) });
    const a = await collect(transport, 'work', 2, false);
    const b = await collect(transport, 'work', 2, false);
    await vi.waitFor(() => expect(a.deliveries.length + b.deliveries.length).toBe(4));
    expect(a.deliveries.map((d) => d.body.toString())).toEqual(['0', '1']);
    expect(b.deliveries.map((d) => d.body.toString())).toEqual(['2', '3']);
    a.deliveries[0]?.ack();
    b.deliveries[0]?.ack();
    await vi.waitFor(() => expect(a.deliveries.length + b.deliveries.length).toBe(6));
    expect(transport.queueDepth('work')).toBe(0);
  });

  it('returns unacked deliveries as redelivered on a killed connection and ignores their late acks', async () => {
    await transport.publish({ exchange: 'back', routingKey: 'work', body: body('x') });
    const { deliveries } = await collect(transport, 'work', 1, false);
    await vi.waitFor(() => expect(deliveries).toHaveLength(1));
    await transport.debugKillConnection();
    await vi.waitFor(() => expect(deliveries).toHaveLength(2));
    deliveries[0]?.ack(); // stale: must not settle the redelivered copy
    expect(deliveries[1]).toMatchObject({ redelivered: true, deliveryCount: 1 });
    await transport.debugKillConnection();
    await vi.waitFor(() => expect(deliveries).toHaveLength(3));
    deliveries[2]?.ack();
    deliveries[2]?.requeue(); // settling twice does nothing
    expect(transport.queueDepth('work')).toBe(0);
  });

  it('requeues a delivery whose handler threw without settling it', async () => {
    await transport.publish({ exchange: 'back', routingKey: 'work', body: body('x') });
    const counts: number[] = [];
    await transport.consume(
      'work',
      async (delivery) => {
        counts.push(delivery.deliveryCount);
        if (counts.length === 1) throw new Error('boom');
        delivery.ack();
      },
      { prefetch: 1 },
    );
    await vi.waitFor(() => expect(counts).toEqual([0, 1]));
  });

  it('returns a cancelled consumer’s unacked deliveries after its handlers finish', async () => {
    await transport.publish({ exchange: 'back', routingKey: 'work', body: body('x') });
    const { deliveries, subscription } = await collect(transport, 'work', 1, false);
    await vi.waitFor(() => expect(deliveries).toHaveLength(1));
    await subscription.cancel();
    expect(transport.queueDepth('work')).toBe(1);
  });

  it('refuses work after close and fails ping', async () => {
    await transport.close();
    await expect(transport.ping()).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
    await expect(
      transport.publish({ exchange: 'back', routingKey: 'work', body: body('x') }),
    ).rejects.toMatchObject({
      code: 'BUS_CLOSED',
    });
    await transport.close();
  });
});
