import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RelaisError } from '@relais/domain';
import { probe } from '@relais/testing';
import type { Delivery } from '../src/transport';
import { bodyOf, deferred, until, useRabbitFixture } from './rabbitmq-fixture';

const run = promisify(execFile);
const rabbit = await probe('rabbitmq');

// Connection loss: killed sockets, broker-closed connections, and the zero-loss stream.
describe.runIf(rabbit.available)('rabbitmq transport reconnection', () => {
  const { connect, topologyFor, message, vhost } = useRabbitFixture('relais_bus_rabbit_reconnect');

  it('redelivers to the next consumer a message whose consumer connection died mid-handler', async () => {
    // A slow reconnect keeps the dead consumer out of the way, so the survivor must get it.
    const dying = await connect({ reconnectDelayMs: 10_000 });
    const survivor = await connect();
    const { topology, ns, work } = topologyFor();
    await survivor.declare(topology);
    const release = deferred();
    let dyingGot = 0;
    await dying.consume(
      work,
      async (d) => {
        dyingGot += 1;
        await release.promise;
        d.ack(); // its channel is gone by now: must be a harmless no-op
      },
      { prefetch: 1 },
    );
    await survivor.publish(message(ns, 42));
    await until('the first consumer to hold it', () => dyingGot === 1);
    const redelivered: Delivery[] = [];
    await survivor.consume(work, async (d) => void (redelivered.push(d), d.ack()), { prefetch: 1 });
    await dying.debugKillConnection();
    await until('the redelivery', () => redelivered.length === 1);
    release.resolve();
    expect(redelivered[0]).toMatchObject({ redelivered: true, deliveryCount: 1 });
    expect(bodyOf(redelivered[0] as Delivery)).toBe(42);
    await dying.close();
  });

  it('restores consumers after a killed connection and refuses ping while down', async () => {
    const transport = await connect({ reconnectDelayMs: 300 });
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    const got = new Set<number>();
    await transport.consume(work, async (d) => void (got.add(bodyOf(d)), d.ack()), {
      prefetch: 5,
    });
    await transport.publish(message(ns, 1));
    await until('before the kill', () => got.has(1));
    await transport.debugKillConnection();
    await expect(transport.ping()).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
    // Issued while disconnected: waits for the reconnect instead of failing.
    await transport.publish(message(ns, 2));
    await transport.ping();
    await until('after the reconnect', () => got.has(2));
  });

  it('survives the broker closing every connection of the vhost', async () => {
    const transport = await connect();
    const { topology, ns, work } = topologyFor();
    await transport.declare(topology);
    const got = new Set<number>();
    await transport.consume(work, async (d) => void (got.add(bodyOf(d)), d.ack()), { prefetch: 5 });
    await transport.publish(message(ns, 1));
    await until('before', () => got.has(1));
    await run('rabbitmqctl', ['-q', 'close_all_connections', '-p', vhost().vhost, 'relais test'], {
      timeout: 20_000,
    });
    await until('reconnected', () => transport.connected && got.has(1));
    await transport.publish(message(ns, 2));
    await until('after', () => got.has(2));
  });

  it('fails publishes with BUS_UNAVAILABLE when the broker stays away past the timeout', async () => {
    const transport = await connect({ reconnectDelayMs: 5_000, publishTimeoutMs: 300 });
    const { topology, ns } = topologyFor();
    await transport.declare(topology);
    await transport.debugKillConnection();
    const started = Date.now();
    await expect(transport.publish(message(ns, 1))).rejects.toMatchObject({
      code: 'BUS_UNAVAILABLE',
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('loses no confirmed message across repeated connection kills mid-stream', async () => {
    const total = 5_000;
    const publisher = await connect();
    const consumer = await connect();
    const { topology, ns, work } = topologyFor();
    await publisher.declare(topology);
    const counts = new Map<number, number>();
    await consumer.consume(
      work,
      async (d) => {
        const n = bodyOf(d);
        counts.set(n, (counts.get(n) ?? 0) + 1);
        d.ack();
      },
      { prefetch: 100 },
    );
    const confirmed = new Set<number>();
    let rejections = 0;
    const publishUntilConfirmed = async (n: number): Promise<void> => {
      for (;;) {
        try {
          await publisher.publish(message(ns, n));
          confirmed.add(n);
          return;
        } catch (error) {
          if (!(error instanceof RelaisError) || !error.retryable) throw error;
          rejections += 1;
        }
      }
    };
    const kills = [1_200, 3_000];
    const publishing = (async () => {
      const inFlight = new Set<Promise<void>>();
      for (let n = 0; n < total; n += 1) {
        if (kills.includes(n)) {
          // Kill both sides: unconfirmed publishes and unacked deliveries are both at stake.
          void publisher.debugKillConnection();
          void consumer.debugKillConnection();
        }
        const p: Promise<void> = publishUntilConfirmed(n).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 512) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();
    await publishing;
    expect(confirmed.size).toBe(total);
    await until(
      'every confirmed message consumed',
      () => [...confirmed].every((n) => counts.has(n)),
      20_000,
    );
    const duplicates = [...counts.values()].reduce((sum, c) => sum + (c - 1), 0);
    const lost = [...confirmed].filter((n) => !counts.has(n)).length;
    console.info(
      `confirmed=${confirmed.size} consumed-distinct=${counts.size} lost=${lost} duplicates=${duplicates} rejected-publishes-retried=${rejections}`,
    );
    expect(lost).toBe(0);
  }, 30_000);
});
