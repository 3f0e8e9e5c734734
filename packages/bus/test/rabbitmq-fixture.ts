import { afterAll, beforeAll } from 'vitest';
import { createLogger } from '@relais/telemetry';
import { createTestVhost, uniqueName, type TestVhost } from '@relais/testing';
import {
  createRabbitTransport,
  type RabbitTransport,
  type RabbitTransportOptions,
} from '../src/rabbitmq';
import { buildTopology, exchangeName, type Topology } from '../src/topology';
import type { Delivery, OutgoingMessage } from '../src/transport';

/** Shared set-up of the RabbitMQ adapter's integration test files. */

const logger = createLogger({
  service: 'bus-test',
  level: process.env['LOG_LEVEL'] === 'debug' ? 'debug' : 'silent',
});

/** Polls until `check` holds or `timeoutMs` passes (then fails with `what`). */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A promise a test resolves by hand, to hold a handler mid-message. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The test number a `message()` body carries. */
export const bodyOf = (d: Delivery): number =>
  (JSON.parse(d.body.toString('utf8')) as { n: number }).n;

/** What a test file gets from `useRabbitFixture`. */
export interface RabbitFixture {
  /** The file's own vhost (valid inside tests). */
  vhost(): TestVhost;
  /** A transport on the file's vhost, closed after the file. */
  connect(options?: Partial<RabbitTransportOptions>): Promise<RabbitTransport>;
  /** A fresh namespace with one work queue bound to `events` under `delivery.*`. */
  topologyFor(options?: { retryTiersMs?: number[]; deliveryLimit?: number }): {
    topology: Topology;
    ns: string;
    work: string;
  };
  /** Test message `n` to the namespace's `events` exchange (routed to its work queue). */
  message(ns: string, n: number, extra?: Partial<OutgoingMessage>): OutgoingMessage;
}

/** Registers the file's vhost (created before, deleted after all its tests) and helpers. */
export function useRabbitFixture(prefix: string): RabbitFixture {
  let vhost: TestVhost | undefined;
  const opened: RabbitTransport[] = [];

  beforeAll(async () => {
    vhost = await createTestVhost(prefix);
  });

  afterAll(async () => {
    await Promise.allSettled(opened.map((t) => t.close()));
    await vhost?.cleanup();
  });

  const current = (): TestVhost => {
    if (!vhost) throw new Error('the test vhost exists only inside tests');
    return vhost;
  };

  return {
    vhost: current,
    async connect(options = {}) {
      const transport = await createRabbitTransport({
        url: current().url,
        logger,
        reconnectDelayMs: 50,
        ...options,
      });
      opened.push(transport);
      return transport;
    },
    topologyFor(options = {}) {
      const ns = uniqueName('t');
      const work = `${ns}.work`;
      const topology = buildTopology({
        namespace: ns,
        retryTiersMs: options.retryTiersMs ?? [200],
        ...(options.deliveryLimit === undefined ? {} : { deliveryLimit: options.deliveryLimit }),
        queues: [{ name: work, bindings: [{ exchange: 'events', routingKey: 'delivery.*' }] }],
      });
      return { topology, ns, work };
    },
    message(ns, n, extra = {}) {
      return {
        exchange: exchangeName(ns, 'events'),
        routingKey: 'delivery.delivered',
        body: Buffer.from(JSON.stringify({ n })),
        messageId: `m-${n}`,
        type: 'delivery.delivered',
        headers: { 'x-test': 'yes', n },
        ...extra,
      };
    },
  };
}
