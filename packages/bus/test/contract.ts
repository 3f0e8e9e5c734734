import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RelaisError, createEnvelope, decodeEnvelope, type Envelope } from '@relais/domain';
import { Registry, createLogger } from '@relais/telemetry';
import { uniqueName } from '@relais/testing';
import {
  BUS_HEADERS,
  MessageBus,
  createMemoryDedupeStore,
  deadLetterQueueName,
  exchangeName,
  type Delivery,
  type HandlerContext,
  type Subscription,
  type Transport,
} from '../src/index';

/**
 * The behaviour every Transport must show under the MessageBus, written against the port
 * only so the same cases run on the memory adapter and on a real RabbitMQ. Timings are
 * generous lower bounds and polling upper bounds: a real broker adds latency, never speed.
 */

/** What an adapter's test file provides for each case: a fresh transport of its own. */
export interface ContractHarness {
  transport: Transport;
  /** Drops the transport's connection the way a broker restart or network cut would. */
  killConnection(): Promise<void>;
  /** Releases everything the harness created (vhost, broker); runs after the transport closed. */
  cleanup(): Promise<void>;
}

const RETRY_TIERS_MS = [150, 300];
const MAX_ATTEMPTS = 3;
const DELIVERY_LIMIT = 3;
const WAIT_MS = 10_000;

const silent = createLogger({ service: 'bus-contract', level: 'silent' });

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

function deliveredEvent(): Envelope<'delivery.delivered'> {
  return createEnvelope({
    type: 'delivery.delivered',
    tenantId: randomUUID(),
    data: { messageId: randomUUID(), recipientDomain: 'example.org', pool: 'shared', attempt: 1 },
  });
}

interface Case {
  harness: ContractHarness;
  transport: Transport;
  bus: MessageBus;
  registry: Registry;
  ns: string;
  workQueue: string;
  /** Dead-lettered deliveries, once `readDeadLetters()` ran. */
  deadLetters: Delivery[];
  readDeadLetters(): Promise<void>;
  /** Run before closing: releases handlers a case left blocked, so close does not wait forever. */
  onDispose: (() => void)[];
}

/** Registers the transport contract cases for one adapter. */
export function defineTransportContract(
  name: string,
  factory: () => Promise<ContractHarness>,
): void {
  describe(`bus contract: ${name}`, () => {
    let current: Case | undefined;

    afterEach(async () => {
      const done = current;
      current = undefined;
      if (done === undefined) return;
      for (const release of done.onDispose) release();
      try {
        await done.bus.close();
      } finally {
        await done.harness.cleanup();
      }
    });

    async function setup(): Promise<Case> {
      const harness = await factory();
      const ns = uniqueName('contract');
      const workQueue = `${ns}.work`;
      const registry = new Registry();
      const bus = new MessageBus({
        transport: harness.transport,
        logger: silent,
        metrics: registry,
        namespace: ns,
        retryTiersMs: RETRY_TIERS_MS,
        maxAttempts: MAX_ATTEMPTS,
        deliveryLimit: DELIVERY_LIMIT,
        dedupe: createMemoryDedupeStore(),
      });
      const deadLetters: Delivery[] = [];
      const created: Case = {
        harness,
        transport: harness.transport,
        bus,
        registry,
        ns,
        workQueue,
        deadLetters,
        onDispose: [],
        async readDeadLetters() {
          await harness.transport.consume(
            deadLetterQueueName(ns),
            async (delivery) => {
              deadLetters.push(delivery);
              delivery.ack();
            },
            { prefetch: 16 },
          );
        },
      };
      current = created;
      await bus.declare([
        { name: workQueue, bindings: [{ exchange: 'events', routingKey: 'delivery.*' }] },
      ]);
      return created;
    }

    it('delivers a published envelope to its handler, validated and intact', async () => {
      const c = await setup();
      const received: { envelope: Envelope<'delivery.delivered'>; context: HandlerContext }[] = [];
      await c.bus.subscribe(c.workQueue, {
        'delivery.delivered': async (envelope, context) => {
          received.push({ envelope, context });
        },
      });
      const sent = deliveredEvent();
      await c.bus.publish(sent);
      await waitFor('the handler to run', () => received.length === 1);
      expect(received[0]?.envelope).toEqual(sent);
      expect(received[0]?.context).toMatchObject({
        attempt: 1,
        deliveryCount: 0,
        redelivered: false,
      });
    });

    it('resolves a publish only once the broker holds the message, and rejects unroutable ones', async () => {
      const c = await setup();
      const sent = Array.from({ length: 20 }, deliveredEvent);
      await c.bus.publishMany(sent);
      // Confirmed before anyone consumed: the messages must survive a dropped connection.
      await c.harness.killConnection();
      const seen = new Set<string>();
      await c.bus.subscribe(c.workQueue, {
        'delivery.delivered': async (envelope) => {
          seen.add(envelope.id);
        },
      });
      await waitFor('every confirmed message', () => sent.every((e) => seen.has(e.id)));

      const unroutable = c.transport.publish({
        exchange: exchangeName(c.ns, 'events'),
        routingKey: 'nobody.listens',
        body: Buffer.from('{}'),
      });
      await expect(unroutable).rejects.toMatchObject({ code: 'BUS_PUBLISH_FAILED' });
      const noQueue = createEnvelope({
        type: 'campaign.completed',
        tenantId: randomUUID(),
        data: { campaignId: randomUUID() },
      });
      await expect(c.bus.publish(noQueue)).rejects.toBeInstanceOf(RelaisError);
    });

    it('rejects a publish to an undeclared exchange and keeps publishing afterwards', async () => {
      const c = await setup();
      const missing = c.transport.publish({
        exchange: `${c.ns}.missing`,
        routingKey: 'x',
        body: Buffer.from('{}'),
      });
      await expect(missing).rejects.toMatchObject({ code: 'BUS_PUBLISH_FAILED' });
      const seen: string[] = [];
      await c.bus.subscribe(c.workQueue, {
        'delivery.delivered': async (envelope) => {
          seen.push(envelope.id);
        },
      });
      const sent = deliveredEvent();
      await c.bus.publish(sent);
      await waitFor('the next publish to be consumed', () => seen.includes(sent.id));
    });

    it('redelivers a message whose consumer died mid-handler, and processes it once', async () => {
      const c = await setup();
      const calls: HandlerContext[] = [];
      const firstStarted = deferred();
      const release = deferred();
      c.onDispose.push(release.resolve);
      await c.bus.subscribe(
        c.workQueue,
        {
          'delivery.delivered': async (_envelope, context) => {
            calls.push(context);
            if (calls.length > 1) return;
            firstStarted.resolve();
            await release.promise;
          },
        },
        { prefetch: 1 },
      );
      await c.bus.publish(deliveredEvent());
      await firstStarted.promise;
      await c.harness.killConnection();
      await waitFor('the redelivery', () => calls.length === 2);
      expect(calls[1]?.redelivered).toBe(true);
      expect(calls[1]?.deliveryCount).toBeGreaterThanOrEqual(1);
      expect(calls[1]?.attempt).toBe(1);
      // The orphaned first run now finishes; its ack belongs to a dead connection.
      release.resolve();
      await sleep(300);
      expect(calls).toHaveLength(2);
    });

    it('retries a retryable failure after the first tier delay, then succeeds', async () => {
      const c = await setup();
      const calls: { at: number; attempt: number }[] = [];
      await c.bus.subscribe(c.workQueue, {
        'delivery.delivered': async (_envelope, context) => {
          calls.push({ at: Date.now(), attempt: context.attempt });
          if (calls.length === 1)
            throw new RelaisError('STORE_UNAVAILABLE', 'database is restarting');
        },
      });
      await c.bus.publish(deliveredEvent());
      await waitFor('the first attempt', () => calls.length === 1);
      await sleep(RETRY_TIERS_MS[0]! / 2);
      expect(calls).toHaveLength(1);
      await waitFor('the retry', () => calls.length === 2);
      const [first, second] = calls;
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(RETRY_TIERS_MS[0]! - 10);
      expect(calls.map((call) => call.attempt)).toEqual([1, 2]);
      await sleep(RETRY_TIERS_MS[1]! + 100);
      expect(calls).toHaveLength(2);
    });

    it('dead-letters a message once its attempts are exhausted, saying why', async () => {
      const c = await setup();
      await c.readDeadLetters();
      const attempts: number[] = [];
      await c.bus.subscribe(c.workQueue, {
        'delivery.delivered': async (_envelope, context) => {
          attempts.push(context.attempt);
          throw new Error('smtp pool exhausted');
        },
      });
      const sent = deliveredEvent();
      await c.bus.publish(sent);
      await waitFor('the dead letter', () => c.deadLetters.length === 1);
      expect(attempts).toEqual([1, 2, 3]);
      const letter = c.deadLetters[0]!;
      expect(letter.messageId).toBe(sent.id);
      expect(decodeEnvelope(letter.body)).toEqual(sent);
      expect(letter.headers).toMatchObject({
        [BUS_HEADERS.failureCode]: 'HANDLER_FAILED',
        [BUS_HEADERS.originalQueue]: c.workQueue,
        [BUS_HEADERS.originalExchange]: exchangeName(c.ns, 'events'),
        [BUS_HEADERS.originalRoutingKey]: 'delivery.delivered',
        [BUS_HEADERS.attempt]: MAX_ATTEMPTS,
      });
      expect(String(letter.headers[BUS_HEADERS.failureReason])).toContain('smtp pool exhausted');
      expect(Number.isNaN(Date.parse(String(letter.headers[BUS_HEADERS.failedAt])))).toBe(false);
    });

    it('dead-letters a non-retryable failure at once', async () => {
      const c = await setup();
      await c.readDeadLetters();
      let calls = 0;
      await c.bus.subscribe(c.workQueue, {
        'delivery.delivered': async () => {
          calls += 1;
          throw new RelaisError('VALIDATION_FAILED', 'recipient domain is not allowed');
        },
      });
      await c.bus.publish(deliveredEvent());
      await waitFor('the dead letter', () => c.deadLetters.length === 1);
      expect(calls).toBe(1);
      expect(c.deadLetters[0]?.headers).toMatchObject({
        [BUS_HEADERS.failureCode]: 'VALIDATION_FAILED',
        [BUS_HEADERS.failureReason]: 'recipient domain is not allowed',
        [BUS_HEADERS.attempt]: 1,
      });
    });

    it('dead-letters poison messages with a readable reason and keeps consuming', async () => {
      const c = await setup();
      await c.readDeadLetters();
      const handled: string[] = [];
      await c.bus.subscribe(c.workQueue, {
        'delivery.delivered': async (envelope) => {
          handled.push(envelope.id);
        },
      });
      const events = exchangeName(c.ns, 'events');
      await c.transport.publish({
        exchange: events,
        routingKey: 'delivery.delivered',
        body: Buffer.from('{"id": not json'),
        messageId: 'poison-bytes',
      });
      const invalid = {
        ...deliveredEvent(),
        data: { messageId: randomUUID(), pool: 'shared', attempt: 1 },
      };
      await c.transport.publish({
        exchange: events,
        routingKey: 'delivery.delivered',
        body: Buffer.from(JSON.stringify(invalid)),
        messageId: invalid.id,
      });
      const unhandled = createEnvelope({
        type: 'delivery.expired',
        tenantId: randomUUID(),
        data: {
          messageId: randomUUID(),
          recipientDomain: 'example.org',
          pool: 'shared',
          attempt: 3,
        },
      });
      await c.bus.publish(unhandled);
      const good = deliveredEvent();
      await c.bus.publish(good);

      await waitFor('three dead letters', () => c.deadLetters.length === 3);
      await waitFor('the good message', () => handled.includes(good.id));
      expect(handled).toEqual([good.id]);
      const byId = new Map(c.deadLetters.map((d) => [d.messageId, d.headers]));
      expect(byId.get('poison-bytes')).toMatchObject({
        [BUS_HEADERS.failureCode]: 'MESSAGE_INVALID',
      });
      expect(String(byId.get('poison-bytes')?.[BUS_HEADERS.failureReason])).toMatch(
        /not valid JSON/,
      );
      expect(byId.get(invalid.id)).toMatchObject({ [BUS_HEADERS.failureCode]: 'MESSAGE_INVALID' });
      expect(String(byId.get(invalid.id)?.[BUS_HEADERS.failureReason])).toMatch(/recipientDomain/);
      expect(byId.get(unhandled.id)).toMatchObject({
        [BUS_HEADERS.failureCode]: 'MESSAGE_UNKNOWN_TYPE',
      });
    });

    it('runs the handler once for an envelope id delivered twice', async () => {
      const c = await setup();
      const handled: string[] = [];
      await c.bus.subscribe(
        c.workQueue,
        {
          'delivery.delivered': async (envelope) => {
            handled.push(envelope.id);
          },
        },
        { prefetch: 1 },
      );
      const twice = deliveredEvent();
      const after = deliveredEvent();
      await c.bus.publish(twice);
      await c.bus.publish(twice);
      await c.bus.publish(after);
      await waitFor('the later message', () => handled.includes(after.id));
      expect(handled).toEqual([twice.id, after.id]);
      const consumed = await c.registry.getSingleMetricAsString('relais_bus_consumed_total');
      expect(consumed).toMatch(/outcome="duplicate"[^\n]*\} 1/);
    });

    it('dead-letters a message that keeps killing its consumer, before the broker drops it', async () => {
      const c = await setup();
      await c.readDeadLetters();
      let calls = 0;
      const release = deferred();
      c.onDispose.push(release.resolve);
      await c.bus.subscribe(
        c.workQueue,
        {
          'delivery.delivered': async () => {
            calls += 1;
            await release.promise;
          },
        },
        { prefetch: 1 },
      );
      const sent = deliveredEvent();
      await c.bus.publish(sent);
      for (let kill = 1; kill <= DELIVERY_LIMIT; kill += 1) {
        await waitFor(`delivery ${kill}`, () => calls === kill);
        await c.harness.killConnection();
      }
      await waitFor('the dead letter', () => c.deadLetters.length === 1);
      expect(calls).toBe(DELIVERY_LIMIT);
      expect(c.deadLetters[0]?.messageId).toBe(sent.id);
      expect(c.deadLetters[0]?.headers[BUS_HEADERS.failureCode]).toBe('HANDLER_FAILED');
      expect(String(c.deadLetters[0]?.headers[BUS_HEADERS.failureReason])).toMatch(/crash loop/);
    });

    it('waits for in-flight handlers when a subscription is cancelled', async () => {
      const c = await setup();
      const started = deferred();
      const release = deferred();
      c.onDispose.push(release.resolve);
      let finished = 0;
      const subscription: Subscription = await c.bus.subscribe(c.workQueue, {
        'delivery.delivered': async () => {
          started.resolve();
          await release.promise;
          finished += 1;
        },
      });
      await c.bus.publish(deliveredEvent());
      await started.promise;
      let cancelled = false;
      const cancelling = subscription.cancel().then(() => {
        cancelled = true;
      });
      await sleep(100);
      expect(cancelled).toBe(false);
      release.resolve();
      await cancelling;
      expect(finished).toBe(1);
      await c.bus.publish(deliveredEvent());
      await sleep(200);
      expect(finished).toBe(1);
    });

    it('keeps publishing and consuming across a killed connection, losing no confirmed message', async () => {
      const c = await setup();
      const seen = new Set<string>();
      await c.bus.subscribe(
        c.workQueue,
        {
          'delivery.delivered': async (envelope) => {
            await sleep(1);
            seen.add(envelope.id);
          },
        },
        { prefetch: 8 },
      );
      const confirmed: string[] = [];
      const publishSome = async (count: number) => {
        for (let i = 0; i < count; i += 1) {
          const envelope = deliveredEvent();
          // A publish caught by the kill may fail (retryably); the caller's answer is to retry.
          for (let tries = 0; ; tries += 1) {
            try {
              await c.bus.publish(envelope);
              confirmed.push(envelope.id);
              break;
            } catch (error) {
              if (tries >= 50 || !(error instanceof RelaisError) || !error.retryable) throw error;
              await sleep(100);
            }
          }
        }
      };
      await publishSome(40);
      await c.harness.killConnection();
      await publishSome(40);
      await waitFor('every confirmed message', () => confirmed.every((id) => seen.has(id)), 20_000);
      expect(confirmed).toHaveLength(80);
      await c.bus.ping();
    });
  });
}
