import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterQueueName } from '@relais/bus';
import type { Envelope, MessageId } from '@relais/domain';
import { startPlatform, type Platform } from '@relais/platform';
import {
  createTestSchema,
  createTestVhost,
  probe,
  uniqueName,
  type TestSchema,
  type TestVhost,
} from '@relais/testing';
import { bounceConfigSchema, startBounceProcessor } from '../src/index';
import {
  bouncedEnvelope,
  bouncesOf,
  outboxSuppressionsOf,
  seedMessage,
  seedTenant,
  suppressionsOf,
  waitFor,
} from './fixtures';

const rabbit = await probe('rabbitmq');
const postgres = await probe('postgres');

interface Kernel {
  name: string;
  /** Kernel settings for the platform, and what to clean up after it stopped. */
  open(): Promise<{ settings: Record<string, string>; cleanup(): Promise<void> }>;
}

const kernels: Kernel[] = [
  {
    name: 'embedded (memory bus, outbox relay, PGlite)',
    open: () => Promise.resolve({ settings: { dataDir: 'memory://' }, cleanup: async () => {} }),
  },
  ...(rabbit.available && postgres.available
    ? [
        {
          name: 'distributed (RabbitMQ, PostgreSQL)',
          open: async () => {
            const vhost: TestVhost = await createTestVhost('relais_bounce');
            const schema: TestSchema = await createTestSchema('relais_bounce');
            return {
              settings: { amqpUrl: vhost.url, databaseUrl: schema.url },
              cleanup: async () => {
                await vhost.cleanup();
                await schema.cleanup();
              },
            };
          },
        },
      ]
    : []),
];

describe.each(kernels)('bounce processor on the $name platform', (kernel) => {
  const namespace = uniqueName('bounce').replace(/_/g, '-');
  let platform: Platform;
  let cleanup: () => Promise<void>;
  const announced: Array<Envelope<'suppression.added'>> = [];
  const deadLettered: string[] = [];

  beforeAll(async () => {
    const opened = await kernel.open();
    cleanup = opened.cleanup;
    const config = bounceConfigSchema.parse({
      ...opened.settings,
      httpPort: 0,
      logLevel: 'silent',
      namespace,
      // One at a time, so the events of a test are handled in publication order.
      prefetch: 1,
    });
    platform = await startPlatform('bounce-processor-test', config);
    await startBounceProcessor(platform, config);
    // Analytics' queue receives every event: the suppressions announced on the bus.
    await platform.bus.subscribe(`${namespace}.analytics.events`, {
      'suppression.added': async (envelope) => void announced.push(envelope),
      'delivery.bounced': async () => {},
    });
    await platform.bus.subscribe(deadLetterQueueName(namespace), {
      'delivery.bounced': async (envelope) => void deadLettered.push(envelope.type),
    });
  });
  afterAll(async () => {
    await platform?.runtime.stop('test');
    await cleanup?.();
  });

  it('suppresses a hard-bounced address and announces it on the bus exactly once when the event comes twice', async () => {
    const { store, bus } = platform;
    const tenantId = await seedTenant(store);
    const hard = await seedMessage(store, tenantId, 'ghost@example.org');
    const soft = await seedMessage(store, tenantId, 'full@example.org');
    const event = bouncedEnvelope(tenantId, hard, '550 5.1.1 <ghost@example.org>: user unknown');

    await bus.publish(event);
    await bus.publish(event);
    // Published after the duplicate: once it is recorded, both copies were handled.
    await bus.publish(bouncedEnvelope(tenantId, soft, '452 4.2.2 Mailbox full'));
    await bus.publish(
      bouncedEnvelope(tenantId, { messageId: randomUUID() as MessageId }, '550 5.1.1 x'),
    );

    await waitFor(async () => (await bouncesOf(store, tenantId)).length === 2);
    await waitFor(() => announced.some((envelope) => envelope.tenantId === tenantId));
    // The outbox row is published; nothing more is waiting to go out.
    await waitFor(async () => {
      const { rows } = await store.query<{ pending: number }>(
        `SELECT count(*)::int AS pending FROM outbox WHERE tenant_id = $1 AND published_at IS NULL`,
        [tenantId],
      );
      return rows[0]?.pending === 0;
    });

    expect(
      (await bouncesOf(store, tenantId)).map((row) => [row.email, row.reason, row.hard]),
    ).toEqual(
      expect.arrayContaining([
        ['ghost@example.org', 'userunknown', true],
        ['full@example.org', 'mailboxfull', false],
      ]),
    );
    expect(await suppressionsOf(store, tenantId)).toEqual([
      {
        kind: 'address',
        value: 'ghost@example.org',
        reason: 'hard bounce: userunknown 5.1.1',
        source: 'bounce',
      },
    ]);
    expect(await outboxSuppressionsOf(store, tenantId)).toHaveLength(1);
    expect(
      announced.filter((envelope) => envelope.tenantId === tenantId).map((e) => e.data),
    ).toEqual([
      {
        email: 'ghost@example.org',
        reason: 'hard bounce: userunknown 5.1.1',
        class: 'userunknown',
        confidence: 0.95,
      },
    ]);
    expect(deadLettered).toEqual([]);
  });
});
