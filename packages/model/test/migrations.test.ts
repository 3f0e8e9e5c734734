import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateKernel, openStore, type Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { createTestSchema, probe, type TestSchema } from '@relais/testing';
import { migrateModel } from '../src/index';

const logger = createLogger({ service: 'model-test', level: 'silent' });
const pg = await probe('postgres');

type Driver = { name: string; open: () => Promise<{ store: Store; drop: () => Promise<void> }> };
const drivers: Driver[] = [
  {
    name: 'pglite',
    open: async () => {
      const store = await openStore({ dataDir: 'memory://', logger });
      return { store, drop: () => Promise.resolve() };
    },
  },
];
if (pg.available) {
  drivers.push({
    name: 'postgres',
    open: async () => {
      const schema: TestSchema = await createTestSchema('relais_model');
      const store = await openStore({ databaseUrl: schema.url, logger });
      return { store, drop: () => schema.cleanup() };
    },
  });
}

describe.each(drivers)('data model on $name', ({ open }) => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, drop } = await open());
    await migrateKernel(store, logger);
  });
  afterAll(async () => {
    await store.close();
    await drop();
  });

  it('applies once and finds nothing to do the second time', async () => {
    expect((await migrateModel(store, logger)).applied.length).toBeGreaterThan(0);
    expect((await migrateModel(store, logger)).applied).toEqual([]);
  });

  it('refuses to edit a consent record: withdrawal is a new row', async () => {
    const tenant = '00000000-0000-4000-8000-000000000001';
    await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 't')`, [tenant]);
    const { rows } = await store.query<{ id: string }>(
      `INSERT INTO contacts (tenant_id, email, domain) VALUES ($1, 'a@x.test', 'x.test') RETURNING id`,
      [tenant],
    );
    await store.query(
      `INSERT INTO consent_events (tenant_id, contact_id, purpose, granted, recorded_at, source)
       VALUES ($1, $2, 'marketing', true, now(), 'form')`,
      [tenant, rows[0]?.id],
    );
    await expect(store.query(`UPDATE consent_events SET granted = false`)).rejects.toThrow(
      /append-only/,
    );
  });

  it('keeps a row from pointing at another tenant', async () => {
    const a = '00000000-0000-4000-8000-00000000000a';
    const b = '00000000-0000-4000-8000-00000000000b';
    await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 'a'), ($2, 'b')`, [a, b]);
    const { rows } = await store.query<{ id: string }>(
      `INSERT INTO segments (id, tenant_id, name, rules) VALUES (gen_random_uuid(), $1, 's', '{}') RETURNING id`,
      [a],
    );
    await expect(
      store.query(
        `INSERT INTO campaigns (id, tenant_id, name, message_class, from_email, segment_id)
         VALUES (gen_random_uuid(), $1, 'c', 'marketing', 'n@x.test', $2)`,
        [b, rows[0]?.id],
      ),
    ).rejects.toThrow();
  });
});
