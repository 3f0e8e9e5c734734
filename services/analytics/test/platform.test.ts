import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterQueueName } from '@relais/bus';
import { createEnvelope, type Envelope, type MessageType } from '@relais/domain';
import { startPlatform, type Platform } from '@relais/platform';
import { createTestSchema, createTestVhost, probe, uniqueName } from '@relais/testing';
import { analyticsConfigSchema, startAnalytics } from '../src/index';
import { deliveryEvent, messageRow, seedCampaign, seedTenant, waitFor } from './fixtures';

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
            const vhost = await createTestVhost('relais_analytics');
            const schema = await createTestSchema('relais_analytics');
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

const ALL_TYPES: MessageType[] = [
  'campaign.launched',
  'campaign.paused',
  'campaign.resumed',
  'campaign.cancelled',
  'campaign.completed',
  'dispatch.batch',
  'outbound.send',
  'delivery.delivered',
  'delivery.deferred',
  'delivery.bounced',
  'delivery.expired',
  'complaint.received',
  'suppression.added',
  'engagement.opened',
  'engagement.clicked',
  'engagement.unsubscribed',
];

describe.each(kernels)('analytics on the $name platform', (kernel) => {
  const namespace = uniqueName('analytics').replace(/_/g, '-');
  let platform: Platform;
  let cleanup: () => Promise<void>;
  let base: string;
  const completed: Array<Envelope<'campaign.completed'>> = [];
  const deadLettered: string[] = [];

  beforeAll(async () => {
    const opened = await kernel.open();
    cleanup = opened.cleanup;
    const config = analyticsConfigSchema.parse({
      ...opened.settings,
      httpPort: 0,
      logLevel: 'silent',
      namespace,
      completionInterval: '100ms',
    });
    platform = await startPlatform('analytics-test', config);
    await startAnalytics(platform, config);
    const { port } = await platform.runtime.start();
    base = `http://127.0.0.1:${port}/v1`;
    // Segmentation's queue also receives every campaign.*: it stands in for any consumer.
    const ignore = async () => {};
    await platform.bus.subscribe(`${namespace}.segmentation.campaign`, {
      'campaign.launched': ignore,
      'campaign.paused': ignore,
      'campaign.resumed': ignore,
      'campaign.cancelled': ignore,
      'campaign.completed': async (envelope) => void completed.push(envelope),
    });
    const record = async (envelope: Envelope) => void deadLettered.push(envelope.type);
    await platform.bus.subscribe(
      deadLetterQueueName(namespace),
      Object.fromEntries(ALL_TYPES.map((type) => [type, record])),
    );
  });
  afterAll(async () => {
    await platform?.runtime.stop('test');
    await cleanup?.();
  });

  it('moves messages from relay events, completes the campaign once and serves its stats', async () => {
    const { store, bus } = platform;
    const { tenantId, key } = await seedTenant(store);
    const stranger = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId, {
      states: ['queued', 'queued', 'queued', 'suppressed'],
    });
    const [a, b, c] = messageIds;
    const events = [
      deliveryEvent('delivery.deferred', tenantId, a!, campaignId),
      deliveryEvent('delivery.delivered', tenantId, a!, campaignId, { attempt: 2 }),
      deliveryEvent('delivery.delivered', tenantId, b!, campaignId),
      deliveryEvent('delivery.bounced', tenantId, c!, campaignId, { hard: false }),
    ];
    for (const event of events) await bus.publish(event);
    // The same envelope again, as after a lost ack: deduplicated, counted once.
    await bus.publish(events[2]!);

    await waitFor(() => completed.some((e) => e.data.campaignId === campaignId));
    expect((await messageRow(store, a!)).state).toBe('delivered');
    expect((await messageRow(store, c!)).state).toBe('bounced');

    const reply = await fetch(`${base}/campaigns/${campaignId}/stats`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(reply.status).toBe(200);
    const stats = (await reply.json()) as any;
    expect(stats).toMatchObject({
      campaignId,
      status: 'completed',
      recipients: 4,
      counters: { delivered: 2, bounced_hard: 0, bounced_soft: 1, deferred: 1, expired: 0 },
      rates: { delivered: 0.6667, bounced: 0.3333 },
    });
    expect(stats.finishedAt).toEqual(expect.any(String));

    const foreign = await fetch(`${base}/campaigns/${campaignId}/stats`, {
      headers: { authorization: `Bearer ${stranger.key}` },
    });
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as any).error.code).toBe('NOT_FOUND');

    // A later sweep finds nothing to do: the campaign was announced once.
    const marker = await seedCampaign(store, tenantId, { states: ['delivered'] });
    await waitFor(() => completed.some((e) => e.data.campaignId === marker.campaignId));
    expect(completed.filter((e) => e.data.campaignId === campaignId)).toHaveLength(1);
  });

  it('acknowledges every other event the queue receives instead of dead-lettering it', async () => {
    const { store, bus } = platform;
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId);
    const messageId = messageIds[0]!;
    const data = { campaignId };
    const others: Envelope[] = [
      createEnvelope({
        type: 'campaign.launched',
        tenantId,
        data: { ...data, segmentId: randomUUID(), messageClass: 'marketing' },
      }),
      createEnvelope({ type: 'campaign.paused', tenantId, data: { ...data, reason: 'user' } }),
      createEnvelope({ type: 'campaign.resumed', tenantId, data }),
      createEnvelope({ type: 'campaign.cancelled', tenantId, data }),
      createEnvelope({
        type: 'complaint.received',
        tenantId,
        data: { messageId, campaignId, contactId: randomUUID(), feedbackType: 'abuse' },
      }),
      createEnvelope({
        type: 'suppression.added',
        tenantId,
        data: { email: 'a@example.test', reason: 'complaint' },
      }),
      createEnvelope({ type: 'engagement.opened', tenantId, data: { messageId, machine: false } }),
      createEnvelope({
        type: 'engagement.clicked',
        tenantId,
        data: { messageId, url: 'https://example.test/', machine: false },
      }),
      createEnvelope({
        type: 'engagement.unsubscribed',
        tenantId,
        data: { messageId, contactId: randomUUID() },
      }),
    ];
    for (const envelope of others) await bus.publish(envelope);
    await bus.publish(deliveryEvent('delivery.expired', tenantId, messageId, campaignId));

    // Settled as acked by the analytics consumer, per type: handled, not dead-lettered.
    const ackedTypes = async () => {
      const metrics = await platform.metrics.getMetricsAsJSON();
      const consumed = metrics.find((m) => m.name.endsWith('bus_consumed_total'));
      return new Set(
        (consumed?.values ?? [])
          .filter(
            (v) =>
              v.labels['queue'] === `${namespace}.analytics.events` &&
              v.labels['outcome'] === 'acked' &&
              v.value > 0,
          )
          .map((v) => String(v.labels['type'])),
      );
    };
    await waitFor(async () => {
      const acked = await ackedTypes();
      return others.every((envelope) => acked.has(envelope.type));
    });
    await waitFor(async () => (await messageRow(store, messageId)).state === 'expired');
    expect(deadLettered).toEqual([]);
  });
});
