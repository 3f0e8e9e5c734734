import { readFile, readdir } from 'node:fs/promises';
import { Client, errors } from '@elastic/elasticsearch';
import Mock from '@elastic/elasticsearch-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEnvelope,
  type Envelope,
  type MessageId,
  type MessageInput,
  type MessageType,
  type TenantId,
} from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import { installElasticsearchAssets } from '../src/adapters/elasticsearch-install';
import {
  createElasticsearchShipper,
  type EventShipper,
  type ShipperOptions,
} from '../src/adapters/elasticsearch-shipper';
import { ELASTICSEARCH_ASSET_FILES } from '../src/elasticsearch/templates';
import { waitFor } from './fixtures';

const tenantId = '4d7f0b8e-2c1a-4e5f-9a0b-1c2d3e4f5a6b' as TenantId;
const campaignId = '0190f3a8-5b1e-7c2a-9d4e-1f2a3b4c5d6e';
const messageId = '7b0c3f4e-8e0a-4c1e-9a53-1f2d3c4b5a69' as MessageId;
const at = new Date('2026-11-27T09:30:00.000Z');

function event<T extends MessageType>(type: T, data: MessageInput<T>): Envelope {
  return createEnvelope<T>({ type, tenantId, occurredAt: at, data });
}
const delivered = () =>
  event('delivery.delivered', {
    messageId,
    campaignId: campaignId,
    recipientDomain: 'gmail.com',
    pool: 'bulk-a',
    attempt: 1,
    reply: { code: 250, enhanced: '2.0.0', text: '250 2.0.0 OK' },
  });

/** A logger that records what it was told, by level. */
function recordingLogger() {
  const lines: { level: string; action: unknown }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>): void => {
      lines.push({ level, action: fields['event.action'] });
    };
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  return { lines, logger: logger as unknown as Logger };
}

/** An Elasticsearch whose `_bulk` the test can take down and bring back. */
function fakeCluster() {
  const mock = new Mock();
  const client = new Client({
    node: 'http://127.0.0.1:9200',
    Connection: mock.getConnection(),
    maxRetries: 0,
  });
  const bulks: Record<string, unknown>[][] = [];
  const state = { down: false, itemStatus: (_doc: Record<string, unknown>): number => 201 };
  mock.add({ method: 'POST', path: '/_bulk' }, (params) => {
    if (state.down) {
      return new errors.ResponseError({
        body: { error: { type: 'unavailable' }, status: 503 },
        statusCode: 503,
        warnings: null,
        meta: {} as never,
      });
    }
    const lines = params.body as Record<string, unknown>[];
    bulks.push(lines);
    const items = [];
    for (let i = 0; i < lines.length; i += 2) {
      const status = state.itemStatus(lines[i + 1]!);
      items.push({
        create: {
          _index: '.ds-relais-events-test',
          status,
          ...(status >= 300 && {
            error: { type: status === 400 ? 'mapper_parsing_exception' : 'x' },
          }),
        },
      });
    }
    return { took: 1, errors: items.some((item) => item.create.status >= 300), items };
  });
  return { mock, client, bulks, state };
}

const shippers: EventShipper[] = [];
function shipper(client: Client, logger: Logger, options: Partial<ShipperOptions> = {}) {
  const created = createElasticsearchShipper({
    client,
    dataStream: 'relais-events-test',
    batchSize: 3,
    flushIntervalMs: 20,
    maxQueue: 1000,
    backoff: { initialMs: 10, maxMs: 40 },
    logger,
    ...options,
  });
  shippers.push(created);
  return created;
}
afterEach(async () => {
  for (const s of shippers.splice(0)) await s.close();
});

describe('Elasticsearch shipper', () => {
  it('sends bulk NDJSON of create actions into the data stream, with ECS documents', async () => {
    const { client, bulks } = fakeCluster();
    const { logger } = recordingLogger();
    const s = shipper(client, logger);
    const events = [
      delivered(),
      event('engagement.clicked', { messageId, machine: false, url: 'https://shop.test/a?u=42' }),
      event('campaign.paused', {
        campaignId: campaignId,
        reason: 'bounce rate 21% over 15 min',
        scope: { provider: 'google' },
      }),
    ];
    for (const e of events) s.ship(e);
    await waitFor(() => bulks.length === 1);

    const lines = bulks[0]!;
    expect(lines).toHaveLength(6);
    expect(lines.filter((_, i) => i % 2 === 0)).toEqual(
      events.map((e) => ({ create: { _index: 'relais-events-test', _id: e.id } })),
    );
    expect(lines[1]).toEqual({
      '@timestamp': '2026-11-27T09:30:00.000Z',
      event: {
        id: events[0]!.id,
        action: 'delivery.delivered',
        kind: 'event',
        category: ['email'],
        type: ['info'],
        outcome: 'success',
        dataset: 'relais.events',
      },
      email: { local_id: messageId, direction: 'outbound', to: { domain: 'gmail.com' } },
      relais: {
        tenant_id: tenantId,
        campaign_id: campaignId,
        message_id: messageId,
        recipient_domain: 'gmail.com',
        provider: 'google',
        pool: 'bulk-a',
        attempt: 1,
        reply: { code: 250, enhanced: '2.0.0' },
      },
    });
    // A click names its link's host, never the URL with its query string.
    expect(lines[3]).toMatchObject({ url: { domain: 'shop.test' }, relais: { machine: false } });
    expect(JSON.stringify(lines[3])).not.toContain('u=42');
    expect(lines[5]).toMatchObject({
      event: { action: 'campaign.paused', reason: 'bounce rate 21% over 15 min' },
      relais: { pause: { scope: { provider: 'google' } } },
    });
    expect(s.stats()).toMatchObject({ shipped: 3, queued: 0 });
  });

  it('flushes a partial batch after the interval', async () => {
    const { client, bulks } = fakeCluster();
    const s = shipper(client, recordingLogger().logger);
    for (let i = 0; i < 4; i++) s.ship(delivered());
    await waitFor(() => bulks.length === 2);
    expect(bulks.map((b) => b.length / 2)).toEqual([3, 1]);
  });

  it('keeps consuming through an outage and delivers everything once it is back', async () => {
    const cluster = fakeCluster();
    cluster.state.down = true;
    const { lines, logger } = recordingLogger();
    const s = shipper(cluster.client, logger, { batchSize: 50 });
    const sent: string[] = [];
    // Consumption while down: every ship returns at once, whatever the cluster does.
    for (let i = 0; i < 200; i++) {
      const e = delivered();
      sent.push(e.id);
      expect(s.ship(e)).toBeUndefined();
    }
    await waitFor(() => s.stats().failedRequests >= 3);
    expect(s.stats()).toMatchObject({ shipped: 0, queued: 200, dropped: 0 });
    expect(lines.filter((l) => l.action === 'analytics.elasticsearch_unavailable')).toHaveLength(1);

    cluster.state.down = false;
    await waitFor(() => s.stats().shipped === 200);
    const shippedIds = cluster.bulks.flatMap((b) =>
      b.filter((_, i) => i % 2 === 0).map((a) => (a['create'] as { _id: string })._id),
    );
    expect(shippedIds).toEqual(sent);
    expect(lines.map((l) => l.action)).toContain('analytics.elasticsearch_recovered');
  });

  it('drops the oldest events past the bound, logs it once, and ships the newest', async () => {
    const cluster = fakeCluster();
    cluster.state.down = true;
    const { lines, logger } = recordingLogger();
    const s = shipper(cluster.client, logger, { maxQueue: 5, batchSize: 5 });
    const sent = Array.from({ length: 12 }, () => delivered());
    for (const e of sent) s.ship(e);
    expect(s.stats()).toMatchObject({ queued: 5, dropped: 7 });
    expect(lines.filter((l) => l.action === 'analytics.elasticsearch_queue_full')).toHaveLength(1);

    await waitFor(() => s.stats().failedRequests >= 1);
    cluster.state.down = false;
    await waitFor(() => s.stats().shipped === 5);
    const shippedIds = cluster.bulks.flatMap((b) =>
      b.filter((_, i) => i % 2 === 0).map((a) => (a['create'] as { _id: string })._id),
    );
    expect(shippedIds).toEqual(sent.slice(7).map((e) => e.id));
  });

  it('retries items refused for load, counts duplicates as shipped, drops mapping errors', async () => {
    const cluster = fakeCluster();
    const tries = new Map<string, number>();
    cluster.state.itemStatus = (doc) => {
      const id = (doc['event'] as { id: string }).id;
      tries.set(id, (tries.get(id) ?? 0) + 1);
      const action = (doc['event'] as { action: string }).action;
      if (action === 'engagement.opened') return tries.get(id) === 1 ? 429 : 201;
      if (action === 'engagement.clicked') return 400;
      return 409; // already indexed by a previous delivery of the envelope
    };
    const { lines, logger } = recordingLogger();
    const s = shipper(cluster.client, logger);
    s.ship(event('engagement.opened', { messageId, machine: true }));
    s.ship(event('engagement.clicked', { messageId, machine: true, url: 'https://x.test/' }));
    s.ship(delivered());
    await waitFor(() => s.stats().shipped === 2);
    expect(s.stats()).toMatchObject({ shipped: 2, rejected: 1, queued: 0 });
    expect(cluster.bulks.map((b) => b.length / 2)).toEqual([3, 1]);
    expect(lines.map((l) => l.action)).toContain('analytics.elasticsearch_rejected');
  });

  it('installs the templates before its first bulk, retrying while the cluster is away', async () => {
    const cluster = fakeCluster();
    let attempts = 0;
    const s = shipper(cluster.client, recordingLogger().logger, {
      prepare: () => {
        attempts += 1;
        return attempts < 3 ? Promise.reject(new Error('connection refused')) : Promise.resolve();
      },
    });
    s.ship(delivered());
    await waitFor(() => s.stats().shipped === 1);
    expect(attempts).toBe(3);
  });
});

describe('Elasticsearch templates', () => {
  it('installs the ILM policy, component templates and index template as deploy/ holds them', async () => {
    const mock = new Mock();
    const client = new Client({ node: 'http://127.0.0.1:9200', Connection: mock.getConnection() });
    const puts: { path: string; body: unknown }[] = [];
    mock.add(
      {
        method: 'PUT',
        path: ['/_ilm/policy/:name', '/_component_template/:name', '/_index_template/:name'],
      },
      (params) => {
        puts.push({ path: params.path as string, body: params.body });
        return { acknowledged: true };
      },
    );
    await installElasticsearchAssets(client, recordingLogger().logger);

    const dir = new URL('../../../deploy/elasticsearch/', import.meta.url);
    const file = async (name: string) =>
      JSON.parse(await readFile(new URL(name, dir), 'utf8')) as unknown;
    expect(puts.map((p) => p.path)).toEqual([
      '/_ilm/policy/relais-events',
      '/_component_template/relais-events-settings',
      '/_component_template/relais-events-ecs',
      '/_component_template/relais-events-relais',
      '/_index_template/relais-events',
    ]);
    expect(puts[0]!.body).toEqual(await file('ilm-policy.relais-events.json'));
    expect(puts[2]!.body).toEqual(await file('component-template.relais-events-ecs.json'));
    expect(puts[4]!.body).toEqual(await file('index-template.relais-events.json'));
    expect(puts[4]!.body).toMatchObject({
      index_patterns: ['relais-events-*'],
      data_stream: {},
      composed_of: ['relais-events-settings', 'relais-events-ecs', 'relais-events-relais'],
    });
  });

  it('keeps deploy/elasticsearch equal to the templates the service installs', async () => {
    const dir = new URL('../../../deploy/elasticsearch/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(Object.keys(ELASTICSEARCH_ASSET_FILES).sort());
    for (const name of files) {
      // If this fails: pnpm --filter @relais/analytics es:assets
      expect(JSON.parse(await readFile(new URL(name, dir), 'utf8'))).toEqual(
        ELASTICSEARCH_ASSET_FILES[name],
      );
    }
  });
});
