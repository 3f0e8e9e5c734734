import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelaisError } from '@relais/domain';
import { migrateModel } from '@relais/model';
import { migrateKernel, openStore, type Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { createTestSchema, probe } from '@relais/testing';
import { generateContactsCsv, importContacts, type ImportOptions } from '../../src/import';

const logger = createLogger({ service: 'campaign-import-test', level: 'silent' });
const pg = await probe('postgres');

type Driver = { name: string; open: () => Promise<{ store: Store; drop: () => Promise<void> }> };
const drivers: Driver[] = [
  {
    name: 'pglite',
    open: async () => ({
      store: await openStore({ dataDir: 'memory://', logger }),
      drop: () => Promise.resolve(),
    }),
  },
];
if (pg.available) {
  drivers.push({
    name: 'postgres',
    open: async () => {
      const schema = await createTestSchema('relais_import');
      return { store: await openStore({ databaseUrl: schema.url, logger }), drop: schema.cleanup };
    },
  });
}

interface ContactRecord {
  email: string;
  domain: string;
  attributes: Record<string, unknown>;
  tags: string[];
  consents: Record<string, unknown>;
}

describe.each(drivers)('importContacts on $name', ({ open }) => {
  let store: Store;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ store, drop } = await open());
    await migrateKernel(store, logger);
    await migrateModel(store, logger);
  });
  afterAll(async () => {
    await store.close();
    await drop();
  });

  async function newTenant(): Promise<string> {
    const id = randomUUID();
    await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 'import test')`, [id]);
    return id;
  }

  function run(tenant: string, text: string | Iterable<string>, options: ImportOptions) {
    const pieces = typeof text === 'string' ? [text] : text;
    return importContacts(store, tenant, Readable.from(pieces), options);
  }

  async function contacts(tenant: string): Promise<ContactRecord[]> {
    const { rows } = await store.query<ContactRecord>(
      `SELECT email, domain, attributes, tags, consents FROM contacts WHERE tenant_id = $1 ORDER BY email`,
      [tenant],
    );
    return rows;
  }

  it('imports the good rows and reports the bad ones with their line numbers', async () => {
    const tenant = await newTenant();
    const csv = [
      'email,first_name,age:number',
      'ok1@example.com,Ana,30',
      'not-an-email,Bob,40',
      'ok2@example.com,"two',
      'lines",22',
      'ok3@example.com,Cy',
      'ok4@example.com,Dee,old',
      '',
      'ok5@example.com,Ed"x,1',
      `ok6@example.com,${'v'.repeat(3_000)},50`,
      'ok7@example.com,Fay,50',
    ].join('\n');
    const report = await run(tenant, csv, { format: 'csv' });
    expect(report).toMatchObject({ rows: 8, imported: 3, created: 3, updated: 0, rejected: 5 });
    expect(report.errors.map((error) => [error.line, error.field])).toEqual([
      [3, 'email'],
      [6, undefined],
      [7, 'age'],
      [9, 'first_name'],
      [10, 'first_name'],
    ]);
    expect(report.errors[0]?.reason).toBe('invalid email: missing @');
    expect(report.errors[1]?.reason).toBe('row has 2 fields, header has 3');
    expect((await contacts(tenant)).map((contact) => contact.email)).toEqual([
      'ok1@example.com',
      'ok2@example.com',
      'ok7@example.com',
    ]);
  });

  it('imports NDJSON and reports a malformed line without losing the others', async () => {
    const tenant = await newTenant();
    const ndjson = [
      '{"email":"a@x.io","attributes":{"plan":"pro","seats":3},"tags":["t1"],"city":"Paris"}',
      '',
      '{"email":"b@x.io", "plan": }',
      '{"email":"c@x.io","attributes":{"nested":{"level":2}}}',
    ].join('\n');
    const report = await run(tenant, ndjson, { format: 'ndjson' });
    expect(report).toMatchObject({ rows: 3, created: 2, rejected: 1 });
    expect(report.errors[0]?.line).toBe(3);
    const [a, c] = await contacts(tenant);
    expect(a).toMatchObject({ attributes: { plan: 'pro', seats: 3, city: 'Paris' }, tags: ['t1'] });
    expect(c?.attributes).toEqual({ nested: { level: 2 } });
  });

  it('merges attributes and tags into an existing contact on upsert', async () => {
    const tenant = await newTenant();
    await run(tenant, 'email,plan,city,tags\na@x.io,free,Paris,old\n', { format: 'csv' });
    const report = await run(tenant, 'email,plan,age:number,tags\nA@X.io,pro,30,new|old\n', {
      format: 'csv',
      tags: ['campaign-2026'],
    });
    expect(report).toMatchObject({ rows: 1, created: 0, updated: 1, imported: 1 });
    const [contact] = await contacts(tenant);
    expect(contact?.attributes).toEqual({ plan: 'pro', city: 'Paris', age: 30 });
    expect(contact?.tags).toEqual(['campaign-2026', 'new', 'old']);
  });

  it('applies repeated emails of one file in order: later values win, tags add up', async () => {
    const tenant = await newTenant();
    const csv = 'email,plan,city,tags\na@x.io,free,Paris,t1\nb@x.io,free,,\nA@x.io,pro,,t2\n';
    const report = await run(tenant, csv, { format: 'csv' });
    expect(report).toMatchObject({ rows: 3, created: 2, updated: 1, imported: 3, skipped: 0 });
    const [a] = await contacts(tenant);
    expect(a).toMatchObject({ attributes: { plan: 'pro', city: 'Paris' }, tags: ['t1', 't2'] });
  });

  it('leaves existing contacts untouched in insert-only mode', async () => {
    const tenant = await newTenant();
    await run(tenant, 'email,plan\na@x.io,free\n', { format: 'csv' });
    const report = await run(tenant, 'email,plan\na@x.io,pro\nb@x.io,pro\nb@x.io,enterprise\n', {
      format: 'csv',
      mode: 'insert-only',
    });
    expect(report).toMatchObject({ rows: 3, created: 1, updated: 0, skipped: 2, imported: 1 });
    const [a, b] = await contacts(tenant);
    expect(a?.attributes).toEqual({ plan: 'free' });
    expect(b?.attributes).toEqual({ plan: 'pro' });
  });

  it('records consent for every imported contact and reflects it on the contact', async () => {
    const tenant = await newTenant();
    const recordedAt = new Date('2026-03-01T12:00:00Z');
    const consent = {
      purpose: 'marketing',
      source: 'crm-export',
      textVersion: 'v3',
      ip: '192.0.2.7',
      recordedAt,
    };
    await run(tenant, 'email\nold@x.io\n', { format: 'csv' });
    const report = await run(tenant, 'email\nold@x.io\nnew@x.io\nbad\n', {
      format: 'csv',
      consent,
    });
    expect(report).toMatchObject({ created: 1, updated: 1, rejected: 1 });
    for (const contact of await contacts(tenant)) {
      expect(contact.consents).toEqual({
        marketing: {
          granted: true,
          at: recordedAt.toISOString(),
          source: 'crm-export',
          textVersion: 'v3',
        },
      });
    }
    const { rows } = await store.query<{
      purpose: string;
      granted: boolean;
      ip: string;
      text_version: string;
    }>(
      `SELECT purpose, granted, host(ip) AS ip, text_version FROM consent_events WHERE tenant_id = $1`,
      [tenant],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      purpose: 'marketing',
      granted: true,
      ip: '192.0.2.7',
      text_version: 'v3',
    });
  });

  it('normalizes BOM, CRLF, unicode values and IDN domains', async () => {
    const tenant = await newTenant();
    const csv = '\ufeffEmail,Name\r\nAna@Bücher.DE,Zoë Ünal\r\nbo@例え.jp,"Bo, ""the"" 2nd"\r\n';
    const report = await run(tenant, [csv.slice(0, 20), csv.slice(20)], { format: 'csv' });
    expect(report).toMatchObject({ rows: 2, created: 2, rejected: 0 });
    expect(await contacts(tenant)).toMatchObject([
      {
        email: 'ana@xn--bcher-kva.de',
        domain: 'xn--bcher-kva.de',
        attributes: { Name: 'Zoë Ünal' },
      },
      {
        email: 'bo@xn--r8jz45g.jp',
        domain: 'xn--r8jz45g.jp',
        attributes: { Name: 'Bo, "the" 2nd' },
      },
    ]);
  });

  it('keeps tenants apart: one email in two tenants is two contacts', async () => {
    const a = await newTenant();
    const b = await newTenant();
    await run(a, 'email,plan\nsame@x.io,free\n', { format: 'csv' });
    const report = await run(b, 'email,plan\nsame@x.io,pro\n', { format: 'csv' });
    expect(report).toMatchObject({ created: 1, updated: 0 });
    expect((await contacts(a))[0]?.attributes).toEqual({ plan: 'free' });
    expect((await contacts(b))[0]?.attributes).toEqual({ plan: 'pro' });
  });

  it('refuses an unknown tenant, a header without email and an invalid consent before writing', async () => {
    const tenant = await newTenant();
    await expect(run(randomUUID(), 'email\na@x.io\n', { format: 'csv' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(run(tenant, 'name\nAna\n', { format: 'csv' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const consent = { purpose: 'Marketing!', source: 'form' };
    await expect(run(tenant, 'email\na@x.io\n', { format: 'csv', consent })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await contacts(tenant)).toEqual([]);
  });

  it('lists at most maxErrors errors and keeps counting', async () => {
    const tenant = await newTenant();
    const csv = `email\n${'bad\n'.repeat(5)}ok@x.io\n`;
    const report = await run(tenant, csv, { format: 'csv', maxErrors: 2 });
    expect(report).toMatchObject({ rows: 6, rejected: 5, created: 1, errorsTruncated: true });
    expect(report.errors.map((error) => error.line)).toEqual([2, 3]);
  });

  it('imports 100,000 generated rows across several chunks', { timeout: 120_000 }, async () => {
    const tenant = await newTenant();
    const report = await importContacts(store, tenant, generateContactsCsv(100_000, 7), {
      format: 'csv',
    });
    expect(report).toMatchObject({ rows: 100_000, created: 100_000, rejected: 0, errors: [] });
    const { rows } = await store.query<{ contacts: number; domains: number }>(
      `SELECT count(*)::int AS contacts, count(DISTINCT domain)::int AS domains
       FROM contacts WHERE tenant_id = $1`,
      [tenant],
    );
    expect(rows[0]).toEqual({ contacts: 100_000, domains: 30 });
  });

  it('surfaces a database failure as a RelaisError saying what was committed', async () => {
    const tenant = await newTenant();
    let copies = 0;
    const failing: Store = {
      ...store,
      query: (sql, params) => store.query(sql, params),
      transaction: (fn) =>
        store.transaction((tx) =>
          fn({
            ...tx,
            query: (sql, params) => tx.query(sql, params),
            exec: (script) => tx.exec(script),
            copyRows: (table, columns, rows) => {
              copies++;
              if (copies === 2)
                return Promise.reject(new RelaisError('STORE_UNAVAILABLE', 'connection lost'));
              return tx.copyRows(table, columns, rows);
            },
          }),
        ),
    };
    const error = await importContacts(failing, tenant, generateContactsCsv(45_000, 1), {
      format: 'csv',
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RelaisError);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
    // The first chunk committed; the failing second one left nothing behind.
    const committed = (error as RelaisError).details['committedRows'];
    expect(committed).toBeGreaterThanOrEqual(20_000);
    expect(committed).toBeLessThan(45_000);
    expect(await contacts(tenant)).toHaveLength(committed as number);
  });

  it('writes a chunk again with ON CONFLICT when its fast write meets a conflict', async () => {
    const tenant = await newTenant();
    await run(tenant, 'email,plan\nold@x.io,free\n', { format: 'csv' });
    const statements: string[] = [];
    const conflicting: Store = {
      ...store,
      transaction: (fn) =>
        store.transaction((tx) =>
          fn({
            ...tx,
            query: (sql, params) => {
              if (sql.includes('consent_events')) statements.push(sql);
              if (statements.length === 1) {
                return Promise.reject(new RelaisError('STORE_CONFLICT', 'duplicate key'));
              }
              return tx.query(sql, params);
            },
          }),
        ),
    };
    const report = await importContacts(
      conflicting,
      tenant,
      Readable.from(['email,plan\nold@x.io,pro\nnew@x.io,pro\n']),
      { format: 'csv', consent: { purpose: 'marketing', source: 'test' } },
    );
    expect(report).toMatchObject({ rows: 2, created: 1, updated: 1 });
    expect(statements).toHaveLength(2);
    expect(statements[1]).toContain('ON CONFLICT');
    expect((await contacts(tenant)).map((contact) => contact.attributes)).toEqual([
      { plan: 'pro' },
      { plan: 'pro' },
    ]);
    const { rows } = await store.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM consent_events WHERE tenant_id = $1`,
      [tenant],
    );
    expect(rows[0]?.n).toBe(2);
  });

  it('gives new contacts time-ordered UUIDv7 ids', async () => {
    const tenant = await newTenant();
    await run(tenant, 'email\nb@x.io\na@x.io\nc@x.io\n', { format: 'csv' });
    const { rows } = await store.query<{ id: string; email: string }>(
      `SELECT id::text AS id, email FROM contacts WHERE tenant_id = $1 ORDER BY id`,
      [tenant],
    );
    expect(rows.map((row) => row.email)).toEqual(['b@x.io', 'a@x.io', 'c@x.io']);
    for (const row of rows) expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
  });

  it('stops between chunks when aborted', async () => {
    const tenant = await newTenant();
    const controller = new AbortController();
    controller.abort();
    await expect(
      importContacts(store, tenant, generateContactsCsv(10, 1), {
        format: 'csv',
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(await contacts(tenant)).toEqual([]);
  });
});

describe.runIf(pg.available)('importContacts racing another writer on postgres', () => {
  let store: Store;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const schema = await createTestSchema('relais_import_race');
    drop = schema.cleanup;
    store = await openStore({ databaseUrl: schema.url, logger });
    await migrateKernel(store, logger);
    await migrateModel(store, logger);
  });
  afterAll(async () => {
    await store.close();
    await drop();
  });

  it('updates a contact another transaction inserted while the chunk was written', async () => {
    const tenant = randomUUID();
    await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 'race')`, [tenant]);
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted = (): void => undefined;
    const insertedOnce = new Promise<void>((resolve) => (inserted = resolve));
    const other = store.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO contacts (id, tenant_id, email, domain, attributes)
         VALUES (gen_random_uuid(), $1, 'race@x.io', 'x.io', '{"city": "Paris"}')`,
        [tenant],
      );
      inserted();
      await held;
    });
    await insertedOnce;
    const importing = importContacts(
      store,
      tenant,
      Readable.from(['email,plan\nrace@x.io,pro\nsolo@x.io,free\n']),
      { format: 'csv', consent: { purpose: 'marketing', source: 'test' } },
    );
    // The import's INSERT waits on the other transaction's uncommitted row, then conflicts.
    for (let waited = 0; waited < 100; waited++) {
      const { rows } = await store.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE '%relais_contact_import%'`,
      );
      if (rows[0]!.n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    release();
    await other;
    const report = await importing;
    expect(report).toMatchObject({ rows: 2, created: 1, updated: 1 });
    const { rows } = await store.query<{ email: string; attributes: unknown; events: number }>(
      `SELECT c.email, c.attributes,
         (SELECT count(*)::int FROM consent_events e WHERE e.contact_id = c.id) AS events
       FROM contacts c WHERE c.tenant_id = $1 ORDER BY c.email`,
      [tenant],
    );
    expect(rows).toEqual([
      { email: 'race@x.io', attributes: { city: 'Paris', plan: 'pro' }, events: 1 },
      { email: 'solo@x.io', attributes: { plan: 'free' }, events: 1 },
    ]);
  });
});
