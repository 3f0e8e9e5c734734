import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope } from '@relais/domain';
import { startPlatform, type Platform } from '@relais/platform';
import { uniqueName } from '@relais/testing';
import { createSqlKpiStore } from '../src/adapters/sql-kpi-store';
import { analyticsConfigSchema, startAnalytics } from '../src/index';
import { messageRow, seedTenant, waitFor } from './fixtures';
import { delivery, seedKpiCampaign } from './kpi-fixtures';

/**
 * A stand-in Elasticsearch on 127.0.0.1: answers the template PUTs and `_bulk` (recording
 * the NDJSON lines), with the product header the client checks. Down until `listen`.
 */
function fakeElasticsearch(port: number) {
  const bulkLines: Record<string, unknown>[] = [];
  const templates: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('x-elastic-product', 'Elasticsearch');
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url?.startsWith('/_bulk')) {
        const lines = body
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        bulkLines.push(...lines);
        const items = lines
          .filter((_, i) => i % 2 === 0)
          .map(() => ({ create: { _index: '.ds-relais-events-it', status: 201 } }));
        res.end(JSON.stringify({ took: 1, errors: false, items }));
        return;
      }
      if (req.method === 'PUT') templates.push(req.url ?? '');
      res.end(JSON.stringify({ acknowledged: true }));
    });
  });
  return {
    bulkLines,
    templates,
    listen: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('analytics with Elasticsearch down, then back (embedded platform)', () => {
  const namespace = uniqueName('analytics').replace(/_/g, '-');
  let platform: Platform;
  let es: ReturnType<typeof fakeElasticsearch>;
  let httpPort: number;

  beforeAll(async () => {
    const port = await freePort();
    es = fakeElasticsearch(port);
    const config = analyticsConfigSchema.parse({
      dataDir: 'memory://',
      httpPort: 0,
      logLevel: 'silent',
      namespace,
      elasticsearch: {
        url: `http://127.0.0.1:${port}`,
        namespace: 'it',
        flushInterval: '20ms',
        maxBackoff: '1s',
      },
    });
    platform = await startPlatform('analytics-es-test', config);
    await startAnalytics(platform, config);
    ({ port: httpPort } = await platform.runtime.start());
  });
  afterAll(async () => {
    await platform?.runtime.stop('test');
    await es?.close();
  });

  it('consumes and counts every event while Elasticsearch is away, and ships them once it is back', async () => {
    const { store, bus } = platform;
    const { tenantId } = await seedTenant(store);
    const domains = Array.from({ length: 20 }, () => 'gmail.com');
    const { messageIds } = await seedKpiCampaign(store, tenantId, domains);
    const events = messageIds.map((messageId) =>
      delivery('delivery.delivered', tenantId, messageId, {
        domain: 'gmail.com',
        pool: 'bulk-a',
        at: new Date(),
      }),
    );
    for (const event of events) await bus.publish(event);
    await bus.publish(
      createEnvelope({
        type: 'engagement.opened',
        tenantId,
        data: { messageId: messageIds[0]!, machine: false },
      }),
    );

    // Consumption does not wait for the search cluster: rows move and KPIs count.
    await waitFor(async () => (await messageRow(store, messageIds.at(-1)!)).state === 'delivered');
    const kpis = createSqlKpiStore(store);
    await waitFor(async () => {
      const [total] = await kpis.report({ tenantId, groupBy: [] });
      return total!.totals.delivered === 20 && total!.totals.opens_human_unique === 1;
    });
    expect(es.bulkLines).toHaveLength(0);

    await es.listen();
    // An event the bus redelivered (a retried batch) is shipped again with the same _id,
    // which the real cluster answers 409: count documents by id.
    const shippedIds = () =>
      new Set(
        es.bulkLines.filter((_, i) => i % 2 === 0).map((a) => (a['create'] as { _id: string })._id),
      );
    await waitFor(() => shippedIds().size === 21);
    expect(es.templates).toEqual([
      '/_ilm/policy/relais-events',
      '/_component_template/relais-events-settings',
      '/_component_template/relais-events-ecs',
      '/_component_template/relais-events-relais',
      '/_index_template/relais-events',
    ]);
    expect(es.bulkLines[0]).toEqual({
      create: { _index: 'relais-events-it', _id: expect.any(String) },
    });
    expect([...shippedIds()]).toEqual(expect.arrayContaining(events.map((e) => e.id)));

    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(
      /relais_analytics_elasticsearch_events\{[^}]*state="shipped"[^}]*\} (2[1-9]|[3-9]\d)/,
    );
    expect(metrics).toMatch(/relais_analytics_elasticsearch_events\{[^}]*state="dropped"[^}]*\} 0/);
  });
});
