import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import {
  MessageBus,
  buildTopology,
  createMemoryTransport,
  createRabbitTransport,
  type Transport,
} from '@relais/bus';
import { createEnvelope, encodeEnvelope, type Envelope } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import { Meter, publishAll, type RunResult } from './measure';

/** The knobs every run shares, so the three are compared like for like. */
export interface RunSettings {
  url: string;
  messages: number;
  confirmWindow: number;
  prefetch: number;
  logger: Logger;
}

const POOL = 'bench';
const RETRY_TIERS_MS = [1_000];

/**
 * A valid `outbound.send` envelope with a 2 KB base64 message, so the consumer runtime's
 * validation does real work. Ids encode the message index in their last 12 hex digits:
 * consumers recover it without a lookup table.
 */
export function envelopeFactory(): {
  make(index: number): Envelope<'outbound.send'>;
  indexOf(id: string): number;
  bytes: number;
} {
  const prefix = randomBytes(4).toString('hex');
  const base = createEnvelope({
    type: 'outbound.send',
    tenantId: '6f1c2e1a-1b2c-4d3e-8f40-5a6b7c8d9e0f',
    data: {
      messageId: '0d1e2f30-4152-4637-8899-aabbccddeeff',
      messageClass: 'marketing',
      pool: POOL,
      mailFrom: 'bounces+abc@mail.example.com',
      rcptTo: 'someone@example.org',
      rawBase64: randomBytes(1536).toString('base64'),
      firstAttemptAt: new Date().toISOString(),
      attempt: 1,
    },
  });
  return {
    make: (index) =>
      ({
        ...base,
        id: `${prefix}-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
      }) as Envelope<'outbound.send'>,
    indexOf: (id) => Number.parseInt(id.slice(24), 16),
    bytes: encodeEnvelope(base).length,
  };
}

/** MessageBus (validation, headers, dedupe, ack) over a transport, publishing while consuming. */
async function runBus(
  name: string,
  transport: Transport,
  namespace: string,
  settings: RunSettings,
): Promise<RunResult> {
  const bus = new MessageBus({
    transport,
    logger: settings.logger,
    namespace,
    retryTiersMs: RETRY_TIERS_MS,
  });
  const queue = `${namespace}.relay`;
  await bus.declare([
    { name: queue, bindings: [{ exchange: 'outbound', routingKey: `${POOL}.marketing` }] },
  ]);
  const factory = envelopeFactory();
  const meter = new Meter(settings.messages);
  await bus.subscribe(
    queue,
    {
      'outbound.send': async (envelope) => {
        meter.consumedOne(factory.indexOf(envelope.id));
      },
    },
    { prefetch: settings.prefetch },
  );
  meter.start();
  await publishAll(settings.messages, settings.confirmWindow, (index) => {
    const envelope = factory.make(index);
    meter.published(index);
    return bus.publish(envelope);
  });
  await meter.done;
  const result = meter.result(name);
  await bus.close();
  return result;
}

/** A RabbitMQ adapter with the run's confirm window. */
function benchTransport(settings: RunSettings): ReturnType<typeof createRabbitTransport> {
  return createRabbitTransport({
    url: settings.url,
    logger: settings.logger,
    confirmWindow: settings.confirmWindow,
    connectionName: 'relais-bench',
  });
}

/**
 * The full consumer runtime over RabbitMQ: MessageBus (envelope encoded and validated at
 * publish, decoded and validated at consume, dedupe, ack) over the RabbitMQ adapter.
 */
export async function runRuntime(settings: RunSettings): Promise<RunResult> {
  const namespace = `bench_${randomBytes(4).toString('hex')}`;
  const transport = await benchTransport(settings);
  try {
    return await runBus('runtime', transport, namespace, settings);
  } finally {
    await transport.close();
    await deleteTopology(settings.url, namespace);
  }
}

/**
 * The RabbitMQ adapter (the bus port's RabbitTransport) alone, with the same 2 KB envelope
 * bytes and the headers MessageBus adds: what the issue compares with raw amqplib.
 */
export async function runAdapter(settings: RunSettings): Promise<RunResult> {
  const namespace = `bench_${randomBytes(4).toString('hex')}`;
  const queue = `${namespace}.relay`;
  const transport = await benchTransport(settings);
  try {
    await transport.declare(
      buildTopology({
        namespace,
        retryTiersMs: RETRY_TIERS_MS,
        queues: [
          { name: queue, bindings: [{ exchange: 'outbound', routingKey: `${POOL}.marketing` }] },
        ],
      }),
    );
    const body = encodeEnvelope(envelopeFactory().make(0));
    const meter = new Meter(settings.messages);
    await transport.consume(
      queue,
      async (delivery) => {
        meter.consumedOne(Number(delivery.messageId));
        delivery.ack();
      },
      { prefetch: settings.prefetch },
    );
    meter.start();
    await publishAll(settings.messages, settings.confirmWindow, (index) => {
      meter.published(index);
      return transport.publish({
        exchange: `${namespace}.outbound`,
        routingKey: `${POOL}.marketing`,
        body,
        headers: { 'x-relais-attempt': 1 },
        messageId: String(index),
        type: 'outbound.send',
      });
    });
    await meter.done;
    return meter.result('adapter');
  } finally {
    await transport.close();
    await deleteTopology(settings.url, namespace);
  }
}

/** The in-memory adapter under the full MessageBus runtime (validation, dedupe, ack). */
export async function runMemory(settings: RunSettings): Promise<RunResult> {
  const transport = createMemoryTransport();
  try {
    return await runBus('in-memory', transport, 'bench_memory', settings);
  } finally {
    await transport.close();
  }
}

/**
 * The baseline: amqplib alone, doing what the adapter does on the wire (confirm channel
 * with the same pipelined window and drain handling, persistent mandatory publishes to a
 * direct exchange, one consumer channel with the same prefetch acking each message).
 */
export async function runRaw(settings: RunSettings): Promise<RunResult> {
  const name = `bench_raw_${randomBytes(4).toString('hex')}`;
  const connection = await amqp.connect(settings.url);
  const body = encodeEnvelope(envelopeFactory().make(0));
  try {
    const publisher = await connection.createConfirmChannel();
    await publisher.assertExchange(name, 'direct', { durable: true });
    await publisher.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await publisher.bindQueue(name, name, 'raw');
    const consumer = await connection.createChannel();
    await consumer.prefetch(settings.prefetch);
    const meter = new Meter(settings.messages);
    await consumer.consume(
      name,
      (message) => {
        if (message === null) return;
        meter.consumedOne(Number(message.properties.messageId));
        consumer.ack(message);
      },
      { noAck: false },
    );
    let drained: Promise<void> | undefined;
    meter.start();
    await publishAll(settings.messages, settings.confirmWindow, async (index) => {
      if (drained) await drained;
      meter.published(index);
      await new Promise<void>((resolve, reject) => {
        const written = publisher.publish(
          name,
          'raw',
          body,
          {
            persistent: true,
            mandatory: true,
            contentType: 'application/json',
            messageId: String(index),
            type: 'outbound.send',
          },
          (error: unknown) =>
            error
              ? reject(error instanceof Error ? error : new Error('publish nacked'))
              : resolve(),
        );
        if (!written && !drained) {
          drained = new Promise<void>((resolve) =>
            publisher.once('drain', () => {
              drained = undefined;
              resolve();
            }),
          );
        }
      });
    });
    await meter.done;
    const result = meter.result('raw');
    await publisher.deleteQueue(name);
    await publisher.deleteExchange(name);
    return result;
  } finally {
    await connection.close();
  }
}

/** Removes everything MessageBus declared for a namespace, so benchmarks leave nothing behind. */
async function deleteTopology(url: string, namespace: string): Promise<void> {
  const topology = buildTopology({
    namespace,
    retryTiersMs: RETRY_TIERS_MS,
    queues: [{ name: `${namespace}.relay`, bindings: [] }],
  });
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    for (const queue of topology.queues) await channel.deleteQueue(queue.name);
    for (const exchange of topology.exchanges) await channel.deleteExchange(exchange.name);
    await channel.close();
  } finally {
    await connection.close();
  }
}
