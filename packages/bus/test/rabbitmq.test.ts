import { describe, expect, it } from 'vitest';
import { RelaisError } from '@relais/domain';
import { probe } from '@relais/testing';
import {
  deadLetterQueueName,
  exchangeName,
  retryExchangeName,
  type Topology,
} from '../src/topology';
import type { Delivery } from '../src/transport';
import { bodyOf, deferred, until, useRabbitFixture } from './rabbitmq-fixture';

const rabbit = await probe('rabbitmq');

describe.runIf(rabbit.available)('rabbitmq transport', () => {
  const { connect, topologyFor, message } = useRabbitFixture('relais_bus_rabbit');

  it('round-trips confirmed publishes with properties and headers', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    await Promise.all(Array.from({ length: 100 }, (_, n) => transport.publish(message(ns, n))));
    const received: Delivery[] = [];
    const sub = await transport.consume(
      work,
      async (d) => {
        received.push(d);
        d.ack();
      },
      { prefetch: 10 },
    );
    await until('100 deliveries', () => received.length === 100);
    await sub.cancel();
    const first = received.find((d) => bodyOf(d) === 7);
    expect(first).toMatchObject({
      messageId: 'm-7',
      exchange: exchangeName(ns, 'events'),
      routingKey: 'delivery.delivered',
      redelivered: false,
      deliveryCount: 0,
      headers: { 'x-test': 'yes', n: 7 },
    });
    expect(Object.keys(first?.headers ?? {})).toEqual(['x-test', 'n']);
    expect(new Set(received.map(bodyOf)).size).toBe(100);
  });

  it('rejects an unroutable publish and one to a missing exchange, then keeps publishing', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    const unroutable = transport.publish(message(ns, 1, { routingKey: 'nobody.listens' }));
    await expect(unroutable).rejects.toMatchObject({
      code: 'BUS_PUBLISH_FAILED',
      details: { reason: 'unroutable' },
    });
    const missing = await transport
      .publish(message(ns, 2, { exchange: `${ns}.nope` }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RelaisError);
    expect(missing).toMatchObject({ code: 'BUS_PUBLISH_FAILED', retryable: false });
    // The broker closed the publisher channel for the missing exchange; a new one takes over.
    await transport.publish(message(ns, 3));
    const got: number[] = [];
    const sub = await transport.consume(work, async (d) => void (got.push(bodyOf(d)), d.ack()), {
      prefetch: 5,
    });
    await until('the routable message', () => got.length === 1);
    await sub.cancel();
    expect(got).toEqual([3]);
  });

  it('refuses a topology that conflicts with the broker, and forgets it for reconnects', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    const conflicting: Topology = {
      exchanges: [],
      queues: [{ name: work, deliveryLimit: 99, bindings: [] }],
    };
    await expect(transport.declare(conflicting)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await transport.debugKillConnection();
    await transport.publish(message(ns, 1));
    await transport.ping();
  });

  it('never has more than prefetch deliveries in flight', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    await Promise.all(Array.from({ length: 30 }, (_, n) => transport.publish(message(ns, n))));
    let inFlight = 0;
    let maxInFlight = 0;
    let done = 0;
    const sub = await transport.consume(
      work,
      async (d) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
        done += 1;
        d.ack();
      },
      { prefetch: 3 },
    );
    await until('30 handled', () => done === 30);
    await sub.cancel();
    expect(maxInFlight).toBe(3);
  });

  it('settles every delivery exactly once when handlers finish out of order', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    await Promise.all(Array.from({ length: 60 }, (_, n) => transport.publish(message(ns, n))));
    const deliveries: Delivery[] = [];
    const sub = await transport.consume(
      work,
      async (d) => {
        deliveries.push(d);
        const n = bodyOf(d);
        // Slow ones leave gaps in the acked tags; requeued ones come back once.
        if (n % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 50 + n));
        if (n % 10 === 3 && !d.redelivered) d.requeue();
        else d.ack();
      },
      { prefetch: 16 },
    );
    await until('60 acks and 6 requeues', () => deliveries.length === 66);
    await sub.cancel();
    // Nothing left unacked: a new consumer sees an empty queue.
    const leftovers: Delivery[] = [];
    const again = await transport.consume(work, async (d) => void (leftovers.push(d), d.ack()), {
      prefetch: 16,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await again.cancel();
    expect(leftovers).toEqual([]);
    expect(
      deliveries
        .filter((d) => d.redelivered)
        .map(bodyOf)
        .sort((a, b) => a - b),
    ).toEqual([3, 13, 23, 33, 43, 53]);
  });

  it('redelivers a requeued message with its delivery count', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    await transport.publish(message(ns, 1));
    const seen: Delivery[] = [];
    const sub = await transport.consume(
      work,
      async (d) => {
        seen.push(d);
        if (seen.length === 1) d.requeue();
        else d.ack();
      },
      { prefetch: 1 },
    );
    await until('the redelivery', () => seen.length === 2);
    await sub.cancel();
    expect(seen[0]).toMatchObject({ redelivered: false, deliveryCount: 0 });
    expect(seen[1]).toMatchObject({ redelivered: true, deliveryCount: 1 });
  });

  it('dead-letters a delay-queue message back to its work queue after the TTL', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor({ retryTiersMs: [200] });
    await transport.declare(topology);
    const got: { d: Delivery; at: number }[] = [];
    const sub = await transport.consume(
      work,
      async (d) => void (got.push({ d, at: Date.now() }), d.ack()),
      {
        prefetch: 5,
      },
    );
    const sentAt = Date.now();
    // The routing key names the work queue: the requeue exchange routes it back by it.
    await transport.publish(
      message(ns, 9, { exchange: retryExchangeName(ns, 200), routingKey: work }),
    );
    await until('the delayed message', () => got.length === 1, 5_000);
    await sub.cancel();
    const [first] = got;
    expect(first?.at).toBeGreaterThanOrEqual(sentAt + 190);
    expect(first?.d.exchange).toBe(exchangeName(ns, 'requeue'));
    expect(first ? bodyOf(first.d) : undefined).toBe(9);
  });

  it('dead-letters a crash-looping message once the delivery limit is reached', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor({ deliveryLimit: 2 });
    await transport.declare(topology);
    await transport.publish(message(ns, 5));
    let attempts = 0;
    const sub = await transport.consume(
      work,
      async (d) => {
        attempts += 1;
        d.requeue();
      },
      { prefetch: 1 },
    );
    const dead: Delivery[] = [];
    const deadSub = await transport.consume(
      deadLetterQueueName(ns),
      async (d) => void (dead.push(d), d.ack()),
      {
        prefetch: 1,
      },
    );
    await until('the dead letter', () => dead.length === 1);
    await Promise.all([sub.cancel(), deadSub.cancel()]);
    expect(attempts).toBe(3);
    expect(bodyOf(dead[0] as Delivery)).toBe(5);
  });

  it('applies backpressure: at most confirmWindow publishes in flight, the rest wait', async () => {
    const transport = await connect({ confirmWindow: 8 });
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    let maxInFlight = 0;
    const watch = setInterval(() => {
      maxInFlight = Math.max(maxInFlight, transport.publishBacklog.inFlight);
    }, 0);
    const publishes = Array.from({ length: 500 }, (_, n) => transport.publish(message(ns, n)));
    expect(transport.publishBacklog).toEqual({ inFlight: 8, waiting: 492 });
    await Promise.all(publishes);
    clearInterval(watch);
    expect(maxInFlight).toBeLessThanOrEqual(8);
    expect(transport.publishBacklog).toEqual({ inFlight: 0, waiting: 0 });
    const got = new Set<number>();
    const sub = await transport.consume(work, async (d) => void (got.add(bodyOf(d)), d.ack()), {
      prefetch: 50,
    });
    await until('all 500', () => got.size === 500);
    await sub.cancel();
  });

  it('cancel waits for in-flight handlers, and close refuses further use', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    await transport.publish(message(ns, 1));
    const release = deferred();
    let started = false;
    let finished = false;
    const sub = await transport.consume(
      work,
      async (d) => {
        started = true;
        await release.promise;
        finished = true;
        d.ack();
      },
      { prefetch: 1 },
    );
    await until('the handler to start', () => started);
    const cancelling = sub.cancel();
    setTimeout(release.resolve, 100);
    await cancelling;
    expect(finished).toBe(true);
    await transport.close();
    await expect(transport.publish(message(ns, 2))).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    await expect(transport.ping()).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
  });
});
