import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchDueCampaigns } from '../../src/index';
import { drivers, startApi, type ApiHarness, type Client } from './harness';

const list = await drivers();

async function seedCatalog(client: Client) {
  const segment = await client.call('POST', '/segments', {
    name: 'all',
    rules: { all: true },
  });
  const template = await client.call('POST', '/templates', {
    name: 'welcome',
    subject: 'Hello {{ contact.first_name | default: "there" }}',
    html: '<p>Hi {{ contact.first_name }}</p>',
    text: 'Hi {{ contact.first_name }}',
  });
  expect(segment.status).toBe(201);
  expect(template.status).toBe(201);
  return { segmentId: segment.body.id as string, templateId: template.body.id as string };
}

describe.each(list)('campaign API on $name', (driver) => {
  let api: ApiHarness;
  let acme: Client;

  beforeAll(async () => {
    api = await startApi(driver);
    acme = await api.tenant('acme');
  });
  afterAll(() => api.close());

  describe('authentication and errors', () => {
    it('refuses a request without a key, with a malformed key and with a revoked key', async () => {
      const none = await fetch(`${api.base}/v1/tenant`);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      const forged = await acme.call('GET', '/tenant', undefined, {
        authorization: 'Bearer rls_x_y',
      });
      expect(forged.status).toBe(401);

      const created = await acme.call('POST', '/api-keys', { name: 'ci' });
      expect(created.status).toBe(201);
      expect(created.body.key).toMatch(/^rls_[a-z0-9]{12}_/);
      const listed = await acme.call('GET', '/api-keys');
      expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
      const second = { authorization: `Bearer ${created.body.key}` };
      expect((await acme.call('GET', '/tenant', undefined, second)).status).toBe(200);
      expect((await acme.call('DELETE', `/api-keys/${created.body.id}`)).status).toBe(204);
      expect((await acme.call('GET', '/tenant', undefined, second)).status).toBe(401);
    });

    it('stores keys hashed: no column holds the key', async () => {
      const { rows } = await api.store.query<{ row: string }>(
        `SELECT row_to_json(k)::text AS row FROM api_keys k`,
      );
      // The secret is everything after the prefix: base64url, so it may contain '_' itself.
      const secret = acme.key.split('_').slice(2).join('_');
      expect(secret).toHaveLength(43);
      for (const { row } of rows) expect(row).not.toContain(secret);
    });

    it('answers an unreadable body with a 400 that says so', async () => {
      const reply = await acme.call('POST', '/contacts', '{not json', {
        'content-type': 'application/json',
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '' });
    });

    it('points at the offending field and lists every problem', async () => {
      const reply = await acme.call('POST', '/campaigns', {
        name: '',
        messageClass: 'newsletter',
        from: { email: 'not-an-address' },
      });
      expect(reply.status).toBe(400);
      const pointers = reply.body.error.issues.map((i: { pointer: string }) => i.pointer);
      expect(pointers).toEqual(
        expect.arrayContaining(['/name', '/messageClass', '/from/email', '/segmentId']),
      );
      expect(reply.body.error.pointer).toBe(pointers[0]);
      expect(reply.body.error.requestId).toMatch(/[0-9a-f-]{36}/);
    });

    it('answers 404 for an unknown endpoint and for a malformed id', async () => {
      expect((await acme.call('GET', '/nope')).status).toBe(404);
      const reply = await acme.call('GET', '/contacts/not-a-uuid');
      expect(reply.status).toBe(404);
      expect(reply.body.error).toMatchObject({ code: 'NOT_FOUND', parameter: 'contactId' });
    });
  });

  describe('contacts and consent', () => {
    it('upserts by normalized address and merges attributes', async () => {
      const first = await acme.call('POST', '/contacts', {
        email: '  Ana@Bücher.Example ',
        attributes: { first_name: 'Ana', plan: 'free' },
        tags: ['news'],
      });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        email: 'ana@xn--bcher-kva.example',
        domain: 'xn--bcher-kva.example',
      });
      const again = await acme.call('POST', '/contacts', {
        email: 'ANA@bücher.example',
        attributes: { plan: 'pro' },
        tags: ['vip'],
      });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({
        id: first.body.id,
        attributes: { first_name: 'Ana', plan: 'pro' },
        tags: ['news', 'vip'],
      });
    });

    it('rejects an invalid address with the reason', async () => {
      const reply = await acme.call('POST', '/contacts', { email: 'a@@b.example' });
      expect(reply.status).toBe(400);
      expect(reply.body.error.pointer).toBe('/email');
      expect(reply.body.error.message).toMatch(/invalid email address/);
    });

    it('patches attributes (null removes), tags and status; deletes', async () => {
      const { body: contact } = await acme.call('POST', '/contacts', {
        email: 'patch@example.com',
        attributes: { a: 1, b: 2 },
        tags: ['x', 'y'],
      });
      const patched = await acme.call('PATCH', `/contacts/${contact.id}`, {
        attributes: { a: null, c: 3 },
        addTags: ['z'],
        removeTags: ['x'],
        status: 'unsubscribed',
      });
      expect(patched.body).toMatchObject({
        attributes: { b: 2, c: 3 },
        tags: ['y', 'z'],
        status: 'unsubscribed',
      });
      expect(patched.body.attributes).not.toHaveProperty('a');
      const found = await acme.call('GET', '/contacts?email=PATCH@example.com');
      expect(found.body.items).toHaveLength(1);
      expect((await acme.call('DELETE', `/contacts/${contact.id}`)).status).toBe(204);
      expect((await acme.call('GET', `/contacts/${contact.id}`)).status).toBe(404);
    });

    it('pages through contacts with a keyset cursor', async () => {
      const tenant = await api.tenant('pager');
      for (let i = 0; i < 5; i += 1)
        await tenant.call('POST', '/contacts', { email: `p${i}@example.com` });
      const seen: string[] = [];
      let path = '/contacts?limit=2';
      for (;;) {
        const page = await tenant.call('GET', path);
        seen.push(...page.body.items.map((c: { email: string }) => c.email));
        if (!page.body.next) break;
        path = `/contacts?limit=2&after=${page.body.next}`;
      }
      expect(seen.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4'].map((p) => `${p}@example.com`));
    });

    it('keeps every consent decision; the latest decision is the current state', async () => {
      const { body: contact } = await acme.call('POST', '/contacts', {
        email: 'consent@example.com',
      });
      const grant = await acme.call('POST', `/contacts/${contact.id}/consents`, {
        purpose: 'marketing',
        granted: true,
        source: 'signup-form',
        ip: '203.0.113.7',
        textVersion: 'v3',
        recordedAt: '2026-01-01T10:00:00Z',
      });
      expect(grant.status).toBe(201);
      await acme.call('POST', `/contacts/${contact.id}/consents`, {
        purpose: 'marketing',
        granted: false,
        source: 'preference-center',
        recordedAt: '2026-03-01T10:00:00Z',
      });
      // A late-arriving older decision is recorded but does not override the newer one.
      await acme.call('POST', `/contacts/${contact.id}/consents`, {
        purpose: 'marketing',
        granted: true,
        source: 'crm-sync',
        recordedAt: '2026-02-01T10:00:00Z',
      });
      const ledger = await acme.call('GET', `/contacts/${contact.id}/consents`);
      expect(ledger.body.history.map((r: { source: string }) => r.source)).toEqual([
        'signup-form',
        'crm-sync',
        'preference-center',
      ]);
      expect(ledger.body.history[0]).toMatchObject({
        ip: '203.0.113.7',
        textVersion: 'v3',
        granted: true,
      });
      expect(ledger.body.current.marketing).toMatchObject({
        granted: false,
        source: 'preference-center',
      });
    });
  });

  describe('bulk import', () => {
    it('imports the good rows and reports each bad one with its line and reason', async () => {
      const tenant = await api.tenant('importer');
      const csv = [
        'email,first_name,age:number,tags',
        'good1@example.com,Ann,31,vip;news',
        'not-an-email,Bob,40,',
        'good2@example.com,"Multi',
        'line name",22,',
        'good3@example.com,Cy,abc,',
        'good4@example.com,Dee',
        'GOOD1@example.com,Ann B.,32,',
      ].join('\r\n');
      const reply = await tenant.call(
        'POST',
        '/contacts/imports?consentPurpose=marketing&consentSource=test',
        csv,
      );
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ rows: 6, rejected: 3, created: 2 });
      expect(reply.body.errors.map((e: { line: number }) => e.line)).toEqual([3, 6, 7]);
      expect(reply.body.errors[0].reason).toMatch(/email/);
      const { body } = await tenant.call('GET', '/contacts?email=good1@example.com');
      expect(body.items[0]).toMatchObject({
        attributes: { first_name: 'Ann B.', age: 32 },
        consents: { marketing: { granted: true } },
      });
    });

    it('reads NDJSON, gzip-compressed, and refuses an unknown media type', async () => {
      const tenant = await api.tenant('ndjson');
      const ndjson = [
        JSON.stringify({ email: 'n1@example.com', attributes: { plan: 'pro' }, tags: ['a'] }),
        '{"email": broken',
        '',
        JSON.stringify({ email: 'n2@example.com' }),
      ].join('\n');
      const response = await fetch(`${api.base}/v1/contacts/imports?tags=imported`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tenant.key}`,
          'content-type': 'application/x-ndjson',
          'content-encoding': 'gzip',
        },
        body: gzipSync(ndjson),
      });
      const report = (await response.json()) as { created: number; errors: { line: number }[] };
      expect(report.created).toBe(2);
      expect(report.errors.map((e) => e.line)).toEqual([2]);
      const { body } = await tenant.call('GET', '/contacts?tag=imported');
      expect(body.items).toHaveLength(2);
      const refused = await tenant.call('POST', '/contacts/imports', 'x', {
        'content-type': 'application/pdf',
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.parameter).toBe('format');
    });
  });

  describe('suppressions', () => {
    it('adds, lists and lifts address and domain suppressions, normalized like contacts', async () => {
      const tenant = await api.tenant('suppress');
      expect(
        (
          await tenant.call('POST', '/suppressions', {
            kind: 'address',
            value: 'Bad@Example.COM',
            reason: 'complaint',
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await tenant.call('POST', '/suppressions', {
            kind: 'domain',
            value: 'Bücher.example',
            reason: 'legal',
          })
        ).body,
      ).toMatchObject({ value: 'xn--bcher-kva.example' });
      const listed = await tenant.call('GET', '/suppressions');
      expect(listed.body.items.map((s: { value: string }) => s.value)).toEqual([
        'bad@example.com',
        'xn--bcher-kva.example',
      ]);
      expect((await tenant.call('DELETE', '/suppressions/address/bad@example.com')).status).toBe(
        204,
      );
      expect((await tenant.call('DELETE', '/suppressions/address/bad@example.com')).status).toBe(
        404,
      );
      const invalid = await tenant.call('POST', '/suppressions', {
        kind: 'domain',
        value: 'no dots',
        reason: 'x',
      });
      expect(invalid.status).toBe(400);
    });
  });

  describe('segments', () => {
    let tenant: Client;
    beforeAll(async () => {
      tenant = await api.tenant('segments');
      const rows = [
        'email,plan,age:number,country,signup_at:date,tags',
        'a@gmail.com,pro,34,FR,2026-11-20T00:00:00Z,vip;news',
        'b@gmail.com,free,19,FR,2026-01-01T00:00:00Z,news',
        'c@orange.fr,pro,n/a,DE,not a date,',
        'd@yahoo.com,,52,FR,2026-11-25T00:00:00Z,vip',
      ];
      // `n/a` is not a number: that row is reported; the segment cases below use the others.
      await tenant.call(
        'POST',
        '/contacts/imports?consentPurpose=marketing&consentSource=t',
        rows.join('\n'),
      );
      await tenant.call('POST', '/contacts', {
        email: 'c@orange.fr',
        attributes: { plan: 'pro', age: 'n/a' },
      });
      await tenant.call('POST', '/suppressions', {
        kind: 'domain',
        value: 'yahoo.com',
        reason: 'test',
      });
    });

    const emails = async (rules: unknown) => {
      const reply = await tenant.call('POST', '/segments/preview?sample=100', { rules });
      expect(reply.status).toBe(200);
      return reply.body.sample.map((c: { email: string }) => c.email).sort();
    };

    it('selects by attributes, domains, tags, dates and combinations', async () => {
      api.clock.now = new Date('2026-11-27T00:00:00Z');
      expect(await emails({ attribute: 'plan', op: '=', value: 'pro' })).toEqual([
        'a@gmail.com',
        'c@orange.fr',
      ]);
      expect(await emails({ attribute: 'age', op: '>', value: 30 })).toEqual([
        'a@gmail.com',
        'd@yahoo.com',
      ]);
      expect(
        await emails({ field: 'emailDomain', op: 'in', value: ['GMAIL.com', 'orange.fr'] }),
      ).toEqual(['a@gmail.com', 'b@gmail.com', 'c@orange.fr']);
      expect(
        await emails({
          and: [{ tag: 'vip' }, { not: { field: 'emailDomain', op: '=', value: 'yahoo.com' } }],
        }),
      ).toEqual(['a@gmail.com']);
      expect(await emails({ attribute: 'signup_at', op: '>', value: { daysAgo: 30 } })).toEqual([
        'a@gmail.com',
        'd@yahoo.com',
      ]);
      expect(
        await emails({ or: [{ attribute: 'plan', op: 'exists' }, { tag: 'vip' }] }),
      ).toHaveLength(4);
    });

    it('counts who a marketing send could reach', async () => {
      const reply = await tenant.call('POST', '/segments/preview', { rules: { all: true } });
      // c@orange.fr has no consent (created without), d@yahoo.com is domain-suppressed.
      expect(reply.body).toMatchObject({ matching: 4, marketingEligible: 2 });
    });

    it('answers an invalid rule with a 400 that points at the bad node', async () => {
      const reply = await tenant.call('POST', '/segments', {
        name: 'bad',
        rules: { and: [{ tag: 'vip' }, { or: [{ attribute: 'age', op: 'in', value: 'old' }] }] },
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error.pointer).toMatch(/^\/rules\/and\/1\/or\/0/);
      const injection = await tenant.call('POST', '/segments/preview', {
        rules: {
          attribute: "x'); DROP TABLE contacts; --",
          op: '=',
          value: "'; DELETE FROM contacts; --",
        },
      });
      expect(injection.status).toBe(200);
      expect(injection.body.matching).toBe(0);
      expect(
        (await tenant.call('POST', '/segments/preview', { rules: { all: true } })).body.matching,
      ).toBe(4);
    });

    it('saves, reads, previews and deletes a segment', async () => {
      const created = await tenant.call('POST', '/segments', {
        name: 'vip',
        rules: { tag: 'vip' },
      });
      expect(created.status).toBe(201);
      const preview = await tenant.call('GET', `/segments/${created.body.id}/preview`);
      expect(preview.body.matching).toBe(2);
      const renamed = await tenant.call('PATCH', `/segments/${created.body.id}`, { name: 'VIPs' });
      expect(renamed.body.name).toBe('VIPs');
      expect((await tenant.call('DELETE', `/segments/${created.body.id}`)).status).toBe(204);
    });
  });

  describe('templates', () => {
    it('refuses a broken template with the part, line and column', async () => {
      const reply = await acme.call('POST', '/templates', {
        name: 'broken',
        subject: 'ok',
        html: '<p>\n{% if contact.vip %}VIP',
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        pointer: '/html',
        line: 2,
      });
    });

    it('previews for a stored contact, escaping HTML and using defaults', async () => {
      const { body: template } = await acme.call('POST', '/templates', {
        name: 'preview',
        subject: 'Hi {{ contact.first_name | default: "friend" }}',
        html: '<p>{{ contact.first_name }}</p>',
      });
      const { body: contact } = await acme.call('POST', '/contacts', {
        email: 'xss@example.com',
        attributes: { first_name: '<script>x</script>' },
      });
      const reply = await acme.call('POST', `/templates/${template.id}/preview`, {
        contactId: contact.id,
      });
      expect(reply.body.html).toBe('<p>&lt;script&gt;x&lt;/script&gt;</p>');
      const anonymous = await acme.call('POST', `/templates/${template.id}/preview`, {
        contact: { email: 'x@example.com' },
      });
      expect(anonymous.body.subject).toBe('Hi friend');
    });
  });

  describe('campaign lifecycle', () => {
    it('checks variants and references, then launches through the outbox', async () => {
      const { segmentId, templateId } = await seedCatalog(acme);
      const other = await api.tenant('other');
      const foreign = await seedCatalog(other);
      const base = {
        name: 'Spring',
        messageClass: 'marketing',
        from: { email: 'news@acme.example' },
        segmentId,
      };

      const badWeights = await acme.call('POST', '/campaigns', {
        ...base,
        variants: [
          { name: 'A', templateId, weight: 50 },
          { name: 'B', templateId, weight: 40 },
        ],
      });
      expect(badWeights.body.error).toMatchObject({ pointer: '/variants' });
      const foreignTemplate = await acme.call('POST', '/campaigns', {
        ...base,
        variants: [
          { name: 'A', templateId, weight: 50 },
          { name: 'B', templateId: foreign.templateId, weight: 50 },
        ],
      });
      expect(foreignTemplate.body.error).toMatchObject({ pointer: '/variants/1/templateId' });

      const created = await acme.call('POST', '/campaigns', { ...base, templateId });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        status: 'draft',
        variants: [{ name: 'A', weight: 100 }],
      });
      const launched = await acme.call('POST', `/campaigns/${created.body.id}/launch`, {});
      expect(launched.body.status).toBe('launched');
      const again = await acme.call('POST', `/campaigns/${created.body.id}/launch`, {});
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('STATE_CONFLICT');
      const edit = await acme.call('PUT', `/campaigns/${created.body.id}`, { ...base, templateId });
      expect(edit.status).toBe(409);

      const paused = await acme.call('POST', `/campaigns/${created.body.id}/pause`, {
        reason: 'typo',
      });
      expect(paused.body).toMatchObject({ status: 'paused', statusReason: 'typo' });
      const cancelled = await acme.call('POST', `/campaigns/${created.body.id}/cancel`, {});
      expect(cancelled.body.status).toBe('cancelled');

      const { rows } = await api.store.query<{ type: string }>(
        `SELECT type FROM outbox WHERE envelope -> 'data' ->> 'campaignId' = $1`,
        [created.body.id],
      );
      expect(rows.map((r) => r.type).sort()).toEqual([
        'campaign.cancelled',
        'campaign.launched',
        'campaign.paused',
      ]);
    });

    it('schedules a launch and the scheduler launches it when due', async () => {
      const { segmentId, templateId } = await seedCatalog(acme);
      api.clock.now = new Date();
      const at = new Date(Date.now() + 60_000);
      const { body: campaign } = await acme.call('POST', '/campaigns', {
        name: 'Later',
        messageClass: 'transactional',
        from: { email: 'ops@acme.example' },
        segmentId,
        templateId,
        scheduledAt: at.toISOString(),
      });
      const scheduled = await acme.call('POST', `/campaigns/${campaign.id}/launch`, {});
      expect(scheduled.body.status).toBe('scheduled');
      expect(await launchDueCampaigns(api.store, new Date(at.getTime() - 1000))).toBe(0);
      expect(await launchDueCampaigns(api.store, new Date(at.getTime() + 1000))).toBe(1);
      expect((await acme.call('GET', `/campaigns/${campaign.id}`)).body.status).toBe('launched');
    });
  });
});
