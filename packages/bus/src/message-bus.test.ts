import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RelaisError, createEnvelope, encodeEnvelope, type Envelope } from '@relais/domain';
import { createLogger, type Logger } from '@relais/telemetry';
import { BUS_HEADERS } from './bus-headers';
import { DelayedRetry } from './delayed-retry';
import { MessageBus, type HandlerMap } from './message-bus';
import type {
  Delivery,
  DeliveryHandler,
  Headers,
  OutgoingMessage,
  Subscription,
  Transport,
} from './transport';

const logger = createLogger({ service: 'bus-test', level: 'silent' });
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** A transport that records publishes and lets the test hand deliveries to the consumer. */
function recordingTransport() {
  const published: OutgoingMessage[] = [];
  let failPublishes = false;
  let consumer: DeliveryHandler | undefined;
  const transport: Transport = {
    declare: async () => {},
    publish: async (message) => {
      if (failPublishes) throw new RelaisError('BUS_PUBLISH_FAILED', 'nacked');
      published.push(message);
    },
    consume: async (_queue, onDelivery): Promise<Subscription> => {
      consumer = onDelivery;
      return { cancel: async () => {} };
    },
    ping: async () => {},
    close: async () => {},
  };
  return {
    transport,
    published,
    failPublishes(value: boolean) {
      failPublishes = value;
    },
    /** Feeds one delivery to the subscription and reports how it was settled. */
    async deliver(message: { body: Buffer; headers?: Headers; deliveryCount?: number }) {
      if (consumer === undefined) throw new Error('nobody subscribed');
      const settled: ('ack' | 'requeue')[] = [];
      const delivery: Delivery = {
        body: message.body,
        headers: message.headers ?? {},
        exchange: 'ns.events',
        routingKey: 'delivery.delivered',
        messageId: 'm-1',
        redelivered: false,
        deliveryCount: message.deliveryCount ?? 0,
        ack: () => settled.push('ack'),
        requeue: () => settled.push('requeue'),
      };
      await consumer(delivery);
      return settled;
    },
  };
}

function delivered(): Envelope<'delivery.delivered'> {
  return createEnvelope({
    type: 'delivery.delivered',
    tenantId: randomUUID(),
    traceparent: TRACEPARENT,
    data: { messageId: randomUUID(), recipientDomain: 'example.org', pool: 'shared', attempt: 1 },
  });
}

function outbound(messageClass: 'marketing' | 'transactional'): Envelope<'outbound.send'> {
  return createEnvelope({
    type: 'outbound.send',
    tenantId: randomUUID(),
    data: {
      messageId: randomUUID(),
      messageClass,
      pool: 'dedicated-1',
      mailFrom: 'bounces+x@example.com',
      rcptTo: 'jane@example.org',
      rawBase64: 'U3ViamVjdDogaGkNCg0KaGk=',
      firstAttemptAt: new Date().toISOString(),
      attempt: 1,
    },
  });
}

describe('MessageBus publishing', () => {
  it('publishes each type to its exchange with the type as routing key', async () => {
    const fake = recordingTransport();
    const bus = new MessageBus({ transport: fake.transport, logger, namespace: 'ns' });
    const envelope = delivered();
    await bus.publish(envelope);
    await bus.publish(
      createEnvelope({
        type: 'campaign.launched',
        tenantId: randomUUID(),
        data: {
          campaignId: randomUUID(),
          segmentId: randomUUID(),
          messageClass: 'marketing',
        },
      }),
    );
    expect(fake.published.map((m) => [m.exchange, m.routingKey])).toEqual([
      ['ns.events', 'delivery.delivered'],
      ['ns.campaign', 'campaign.launched'],
    ]);
    expect(fake.published[0]).toMatchObject({
      messageId: envelope.id,
      type: 'delivery.delivered',
      headers: { [BUS_HEADERS.attempt]: 1, [BUS_HEADERS.traceparent]: TRACEPARENT },
    });
  });

  it('routes outbound mail by pool and class so transactional never queues behind bulk', async () => {
    const fake = recordingTransport();
    const bus = new MessageBus({ transport: fake.transport, logger });
    await bus.publish(outbound('transactional'));
    await bus.publish(outbound('marketing'));
    await bus.publish(outbound('marketing'), { routingKey: 'override' });
    expect(fake.published.map((m) => [m.exchange, m.routingKey])).toEqual([
      ['relais.outbound', 'dedicated-1.transactional'],
      ['relais.outbound', 'dedicated-1.marketing'],
      ['relais.outbound', 'override'],
    ]);
  });

  it('refuses an invalid envelope at the publishing end', async () => {
    const fake = recordingTransport();
    const bus = new MessageBus({ transport: fake.transport, logger });
    const invalid = { ...delivered(), tenantId: 'not-a-uuid' } as unknown as Envelope;
    await expect(bus.publish(invalid)).rejects.toMatchObject({ code: 'MESSAGE_INVALID' });
    await expect(bus.publishMany([delivered(), invalid])).rejects.toMatchObject({
      code: 'MESSAGE_INVALID',
    });
    expect(fake.published).toHaveLength(0);
  });

  it('reports how many of a pipelined batch failed', async () => {
    const fake = recordingTransport();
    const bus = new MessageBus({ transport: fake.transport, logger });
    await bus.publishMany([delivered(), delivered()]);
    expect(fake.published).toHaveLength(2);
    fake.failPublishes(true);
    await expect(bus.publishMany([delivered(), delivered()])).rejects.toMatchObject({
      code: 'BUS_PUBLISH_FAILED',
      details: { failed: 2, total: 2 },
    });
  });
});

describe('MessageBus consuming', () => {
  async function subscribed(
    handlers: HandlerMap,
    options: { retryTiersMs?: number[]; maxAttempts?: number; logger?: Logger } = {},
  ) {
    const fake = recordingTransport();
    const bus = new MessageBus({ transport: fake.transport, logger, namespace: 'ns', ...options });
    await bus.subscribe('ns.work', handlers);
    return fake;
  }

  it('publishes a retryable failure to the tier of its attempt, routed back to its queue', async () => {
    const fake = await subscribed(
      { 'delivery.delivered': async () => Promise.reject(new Error('flaky')) },
      { retryTiersMs: [100, 200], maxAttempts: 5 },
    );
    const body = encodeEnvelope(delivered());
    expect(await fake.deliver({ body })).toEqual(['ack']);
    expect(
      await fake.deliver({
        body,
        headers: { [BUS_HEADERS.attempt]: 3, 'x-death': 'broker-owned' },
      }),
    ).toEqual(['ack']);
    expect(
      fake.published.map((m) => [m.exchange, m.routingKey, m.headers?.[BUS_HEADERS.attempt]]),
    ).toEqual([
      ['ns.retry.100ms', 'ns.work', 2],
      ['ns.retry.200ms', 'ns.work', 4],
    ]);
    expect(fake.published[1]?.headers).not.toHaveProperty('x-death');
    expect(fake.published[1]?.headers).toMatchObject({
      [BUS_HEADERS.originalExchange]: 'ns.events',
      [BUS_HEADERS.originalRoutingKey]: 'delivery.delivered',
    });
  });

  it('retries a DelayedRetry on the largest fitting tier and hops until it is due', async () => {
    let calls = 0;
    const fail = (consumesAttempt: boolean) => async () => {
      calls += 1;
      return Promise.reject(
        new DelayedRetry('HANDLER_FAILED', 'later', { delayMs: 60_000, consumesAttempt }),
      );
    };
    const fake = await subscribed(
      { 'delivery.delivered': fail(true), 'delivery.bounced': fail(false) },
      { retryTiersMs: [1_000, 10_000], maxAttempts: 2 },
    );
    const before = Date.now();
    expect(await fake.deliver({ body: encodeEnvelope(delivered()) })).toEqual(['ack']);
    const first = fake.published[0];
    expect(first).toMatchObject({ exchange: 'ns.retry.10000ms', routingKey: 'ns.work' });
    expect(first?.headers?.[BUS_HEADERS.attempt]).toBe(2);
    const dueAtMs = Number(first?.headers?.[BUS_HEADERS.dueAt]);
    expect(dueAtMs).toBeGreaterThanOrEqual(before + 60_000);
    // Arriving early: another hop, the handler does not run and the attempt stays.
    expect(
      await fake.deliver({ body: first?.body ?? Buffer.alloc(0), headers: first?.headers }),
    ).toEqual(['ack']);
    expect(calls).toBe(1);
    expect(fake.published[1]).toMatchObject({
      exchange: 'ns.retry.10000ms',
      headers: { [BUS_HEADERS.attempt]: 2, [BUS_HEADERS.dueAt]: dueAtMs },
    });
    // A postponement on the last attempt keeps its attempt and is not dead-lettered.
    const bounced = createEnvelope({
      type: 'delivery.bounced',
      tenantId: randomUUID(),
      data: {
        messageId: randomUUID(),
        recipientDomain: 'example.org',
        pool: 'shared',
        attempt: 1,
        reason: 'userunknown',
        hard: true,
        confidence: 1,
      },
    });
    await fake.deliver({ body: encodeEnvelope(bounced), headers: { [BUS_HEADERS.attempt]: 2 } });
    expect(fake.published[2]).toMatchObject({
      exchange: 'ns.retry.10000ms',
      headers: { [BUS_HEADERS.attempt]: 2 },
    });
  });

  it('dead-letters once the last attempt fails', async () => {
    const fake = await subscribed(
      { 'delivery.delivered': async () => Promise.reject(new Error('flaky')) },
      { maxAttempts: 2 },
    );
    const settled = await fake.deliver({
      body: encodeEnvelope(delivered()),
      headers: { [BUS_HEADERS.attempt]: '2' },
    });
    expect(settled).toEqual(['ack']);
    expect(fake.published[0]).toMatchObject({
      exchange: 'ns.dead',
      headers: { [BUS_HEADERS.failureCode]: 'HANDLER_FAILED', [BUS_HEADERS.attempt]: 2 },
    });
  });

  it('requeues instead of acking when the broker refuses the retry or dead-letter copy', async () => {
    const fake = await subscribed({
      'delivery.delivered': async () => Promise.reject(new Error('flaky')),
    });
    fake.failPublishes(true);
    expect(await fake.deliver({ body: encodeEnvelope(delivered()) })).toEqual(['requeue']);
    expect(await fake.deliver({ body: Buffer.from('garbage') })).toEqual(['requeue']);
  });

  it('dead-letters a crash-looping message without running its handler again', async () => {
    let calls = 0;
    const fake = await subscribed({ 'delivery.delivered': async () => void (calls += 1) });
    expect(await fake.deliver({ body: encodeEnvelope(delivered()), deliveryCount: 10 })).toEqual([
      'ack',
    ]);
    expect(calls).toBe(0);
    expect(String(fake.published[0]?.headers?.[BUS_HEADERS.failureReason])).toMatch(/crash loop/);
  });

  it('retries with delay when the dedupe store is down, without running the handler', async () => {
    let calls = 0;
    const fake = recordingTransport();
    const bus = new MessageBus({
      transport: fake.transport,
      logger,
      namespace: 'ns',
      dedupe: {
        has: () => Promise.reject(new RelaisError('STORE_UNAVAILABLE', 'connection refused')),
        add: async () => {},
      },
    });
    await bus.subscribe('ns.work', { 'delivery.delivered': async () => void (calls += 1) });
    expect(await fake.deliver({ body: encodeEnvelope(delivered()) })).toEqual(['ack']);
    expect(calls).toBe(0);
    expect(fake.published[0]).toMatchObject({ exchange: 'ns.retry.1000ms', routingKey: 'ns.work' });
  });

  it("never calls the dedupe store with dedupe: 'handler', and calls it by default", async () => {
    const calls: string[] = [];
    const dedupe = {
      has: (consumer: string, id: string) => {
        calls.push(`has ${consumer} ${id}`);
        return Promise.resolve(false);
      },
      add: (consumer: string, id: string) => {
        calls.push(`add ${consumer} ${id}`);
        return Promise.resolve();
      },
    };
    const handled: string[] = [];
    const fake = recordingTransport();
    const bus = new MessageBus({ transport: fake.transport, logger, namespace: 'ns', dedupe });
    const handlers: HandlerMap = {
      'delivery.delivered': async (envelope) => void handled.push(envelope.id),
    };

    await bus.subscribe('ns.own', handlers, { dedupe: 'handler', consumerName: 'own' });
    const own = delivered();
    // The same envelope twice: the runtime no longer filters it, the handler must.
    expect(await fake.deliver({ body: encodeEnvelope(own) })).toEqual(['ack']);
    expect(await fake.deliver({ body: encodeEnvelope(own) })).toEqual(['ack']);
    expect(handled).toEqual([own.id, own.id]);
    expect(calls).toEqual([]);

    await bus.subscribe('ns.store', handlers, { consumerName: 'store' });
    const stored = delivered();
    expect(await fake.deliver({ body: encodeEnvelope(stored) })).toEqual(['ack']);
    expect(calls).toEqual([`has store ${stored.id}`, `add store ${stored.id}`]);
    expect(handled).toEqual([own.id, own.id, stored.id]);
  });

  it('gives the handler a logger scoped to the message and its trace', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        callback();
      },
    });
    const envelope = delivered();
    const fake = await subscribed(
      {
        'delivery.delivered': async (_envelope, context) => {
          context.logger.info('delivery recorded');
        },
      },
      { logger: createLogger({ service: 'bus-test', destination }) },
    );
    expect(await fake.deliver({ body: encodeEnvelope(envelope) })).toEqual(['ack']);
    expect(lines[0]).toMatchObject({
      'relais.message_type': 'delivery.delivered',
      'relais.tenant_id': envelope.tenantId,
      'relais.envelope_id': envelope.id,
      'trace.id': '0af7651916cd43dd8448eb211c80319c',
    });
  });
});
