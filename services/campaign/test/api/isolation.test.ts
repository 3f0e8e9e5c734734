import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@relais/telemetry';
import type { Store } from '@relais/store';
import { apiRoutes } from '../../src/index';
import { drivers, startApi, type ApiHarness, type Client } from './harness';

const list = await drivers();

/** Every route of the API that names an entity in its path, from the route table itself. */
const routes = apiRoutes({
  store: {} as Store,
  logger: createLogger({ service: 'isolation-test', level: 'silent' }),
}).filter((route) => route.path.includes(':'));

describe.each(list)('tenant isolation on $name', (driver) => {
  let api: ApiHarness;
  let owner: Client;
  let intruder: Client;
  const ids: Record<string, string> = {};
  const bodies: Record<string, unknown> = {};

  beforeAll(async () => {
    api = await startApi(driver);
    owner = await api.tenant('owner');
    intruder = await api.tenant('intruder');
    const contact = await owner.call('POST', '/contacts', { email: 'private@owner.example' });
    const segment = await owner.call('POST', '/segments', { name: 's', rules: { all: true } });
    const template = await owner.call('POST', '/templates', {
      name: 't',
      subject: 's',
      text: 'hi',
    });
    const campaign = await owner.call('POST', '/campaigns', {
      name: 'c',
      messageClass: 'marketing',
      from: { email: 'news@owner.example' },
      segmentId: segment.body.id,
      templateId: template.body.id,
    });
    const key = await owner.call('POST', '/api-keys', { name: 'second' });
    await owner.call('POST', '/suppressions', {
      kind: 'address',
      value: 'private@owner.example',
      reason: 'x',
    });
    Object.assign(ids, {
      contactId: contact.body.id,
      segmentId: segment.body.id,
      templateId: template.body.id,
      campaignId: campaign.body.id,
      keyId: key.body.id,
      kind: 'address',
      value: 'private@owner.example',
    });
    // Valid bodies, so a 404 can only come from the scope check, never from validation.
    Object.assign(bodies, {
      updateContact: { attributes: { stolen: true } },
      recordConsent: { purpose: 'marketing', granted: true, source: 'x' },
      updateSegment: { name: 'mine' },
      replaceTemplate: { name: 't', subject: 's', text: 'x' },
      previewTemplate: { contact: { email: 'x@example.com' } },
      replaceCampaign: {
        name: 'c',
        messageClass: 'marketing',
        from: { email: 'a@b.example' },
        segmentId: segment.body.id,
        templateId: template.body.id,
      },
    });
  });
  afterAll(() => api.close());

  it('covers every route with an id in its path', () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
  });

  it("answers 404 to every route given another tenant's ids, and changes nothing", async () => {
    const outcomes: string[] = [];
    for (const route of routes) {
      const path = route.path.replace(/:([A-Za-z]+)/g, (_, name: string) =>
        encodeURIComponent(ids[name]!),
      );
      const body = route.body ? (bodies[route.operationId] ?? {}) : undefined;
      const reply = await intruder.call(route.method.toUpperCase(), path, body);
      outcomes.push(`${route.operationId} ${reply.status} ${reply.body?.error?.code ?? ''}`);
    }
    expect(outcomes).toEqual(routes.map((route) => `${route.operationId} 404 NOT_FOUND`));

    // The owner's data is intact after the intruder's writes, deletes and launches.
    expect((await owner.call('GET', `/contacts/${ids['contactId']}`)).body.attributes).toEqual({});
    expect((await owner.call('GET', `/campaigns/${ids['campaignId']}`)).body.status).toBe('draft');
    expect((await owner.call('GET', `/segments/${ids['segmentId']}`)).status).toBe(200);
    expect((await owner.call('GET', `/templates/${ids['templateId']}`)).status).toBe(200);
    expect((await owner.call('GET', '/suppressions')).body.items).toHaveLength(1);
    const keys = await owner.call('GET', '/api-keys');
    expect(keys.body.items.every((k: { revokedAt: string | null }) => k.revokedAt === null)).toBe(
      true,
    );
  });

  it("never lists another tenant's data", async () => {
    for (const path of ['/contacts', '/segments', '/templates', '/campaigns', '/suppressions']) {
      expect((await intruder.call('GET', path)).body.items).toEqual([]);
    }
    expect(
      (await intruder.call('GET', '/contacts?email=private@owner.example')).body.items,
    ).toEqual([]);
    const preview = await intruder.call('POST', '/segments/preview', { rules: { all: true } });
    expect(preview.body.matching).toBe(0);
  });
});
