import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { migrateModel } from '@relais/model';
import { migrateKernel, openStore, type Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { createTestSchema, probe } from '@relais/testing';
import { campaignApi, createTenant } from '../../src/index';

const logger = createLogger({ service: 'campaign-test', level: 'silent' });

/** One store driver the API suites run against. */
export interface Driver {
  name: 'pglite' | 'postgres';
  open(): Promise<{ store: Store; drop: () => Promise<void> }>;
}

/** PGlite always; PostgreSQL when the server is there (and always in CI). */
export async function drivers(): Promise<Driver[]> {
  const list: Driver[] = [
    {
      name: 'pglite',
      open: async () => ({
        store: await openStore({ dataDir: 'memory://', logger }),
        drop: () => Promise.resolve(),
      }),
    },
  ];
  const pg = await probe('postgres');
  if (pg.available) {
    list.push({
      name: 'postgres',
      open: async () => {
        const schema = await createTestSchema('relais_campaign_api');
        return {
          store: await openStore({ databaseUrl: schema.url, logger }),
          drop: schema.cleanup,
        };
      },
    });
  }
  return list;
}

/** A reply as a test reads it. */
export interface Reply<T = any> {
  status: number;
  body: T;
}

/** An API client bound to one tenant's key. */
export interface Client {
  tenantId: string;
  key: string;
  call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply<T>>;
}

/** The campaign API on an ephemeral port over a migrated store; the clock can be moved. */
export interface ApiHarness {
  base: string;
  store: Store;
  clock: { now: Date };
  tenant(name?: string): Promise<Client>;
  close(): Promise<void>;
}

export async function startApi(driver: Driver): Promise<ApiHarness> {
  const { store, drop } = await driver.open();
  await migrateKernel(store, logger);
  await migrateModel(store, logger);
  const clock = { now: new Date() };
  const app = express();
  app.use('/v1', campaignApi({ store, logger, now: () => clock.now }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = (tenantId: string, key: string): Client => ({
    tenantId,
    key,
    async call(method, path, body, headers = {}) {
      const raw = typeof body === 'string';
      const response = await fetch(`${base}/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': raw ? 'text/csv' : 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
  });
  return {
    base,
    store,
    clock,
    async tenant(name = 'acme') {
      const { tenant, apiKey } = await createTenant(store, name);
      return client(tenant.id, apiKey.key);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      await drop();
    },
  };
}
