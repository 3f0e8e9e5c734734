import { randomUUID } from 'node:crypto';
import { createEnvelope, RelaisError, type Envelope } from '@relais/domain';
import { createLogger } from '@relais/telemetry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimInbox,
  createStoreDedupe,
  enqueueOutbox,
  migrate,
  migrateKernel,
  startOutboxRelay,
  type Migration,
  type OutboxRelay,
  type Store,
} from '../src/index';

/** What each contract case gets: a fresh, empty database of its own. */
export interface StoreFixture {
  store: Store;
  /**
   * Another Store on the same database with its own connections (pg), to prove what
   * separate replicas do. Absent for PGlite, whose one instance is the only way in.
   */
  openPeer?: () => Promise<Store>;
  cleanup(): Promise<void>;
}

export const silentLogger = createLogger({ service: 'store-test', level: 'silent' });

function outboxEnvelope(): Envelope {
  return createEnvelope({ type: 'campaign.resumed', tenantId: randomUUID(), data: { campaignId: randomUUID() } });
}

async function expectRelaisError(promise: Promise<unknown>): Promise<RelaisError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RelaisError);
    return error as RelaisError;
  }
  throw new Error('expected a RelaisError, got success');
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const MIGRATIONS: Migration[] = [
  { version: 1, name: 'widgets', sql: 'CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL);' },
  { version: 2, name: 'widget_color', sql: 'ALTER TABLE widgets ADD COLUMN color text;\nCREATE INDEX widgets_color_idx ON widgets (color);' },
  { version: 3, name: 'gadgets', sql: 'CREATE TABLE gadgets (id int PRIMARY KEY);' },
];

/** Every Store driver must pass these, against a real database. */
export function defineStoreContract(name: string, factory: () => Promise<StoreFixture>): void {
  describe(name, () => {
    let fx: StoreFixture;
    let store: Store;
    const relays: OutboxRelay[] = [];
    const peers: Store[] = [];

    async function peer(): Promise<Store> {
      if (!fx.openPeer) return store;
      const opened = await fx.openPeer();
      peers.push(opened);
      return opened;
    }

    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
    });

    afterEach(async () => {
      await Promise.all(relays.splice(0).map((relay) => relay.stop()));
      await Promise.all(peers.splice(0).map((p) => p.close()));
      await fx.cleanup();
    });

    describe('queries and transactions', () => {
      it('maps values the same way on every driver', async () => {
        const { rows, rowCount } = await store.query<{ n: string; j: unknown; t: Date; u: string | null }>(
          `SELECT 9007199254740993::int8 AS n, '{"a":[1,"x"]}'::jsonb AS j, now() AS t, $1::text AS u`,
          [null],
        );
        expect(rowCount).toBe(1);
        expect(rows[0]).toMatchObject({ n: '9007199254740993', j: { a: [1, 'x'] }, u: null });
        expect(rows[0]?.t).toBeInstanceOf(Date);
      });

      it('reports affected rows for DML', async () => {
        await store.exec('CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, $$a$$), (2, $$b$$);');
        const updated = await store.query('UPDATE t SET v = $1', ['z']);
        expect(updated.rowCount).toBe(2);
        expect(updated.rows).toEqual([]);
      });

      it('commits a transaction when the callback resolves', async () => {
        await store.query('CREATE TABLE t (id int PRIMARY KEY)');
        const result = await store.transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES ($1), ($2)', [1, 2]);
          return 'done';
        });
        expect(result).toBe('done');
        expect((await store.query('SELECT id FROM t ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
      });

      it('rolls back and rethrows the callback error unchanged', async () => {
        await store.query('CREATE TABLE t (id int PRIMARY KEY)');
        const boom = new Error('boom');
        await expect(
          store.transaction(async (tx) => {
            await tx.query('INSERT INTO t VALUES (1)');
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect((await store.query('SELECT id FROM t')).rows).toEqual([]);
      });

      it('maps a unique violation to STORE_CONFLICT, inside and outside transactions', async () => {
        await store.query('CREATE TABLE t (id int PRIMARY KEY)');
        await store.query('INSERT INTO t VALUES (1)');
        const outside = await expectRelaisError(store.query('INSERT INTO t VALUES (1)'));
        expect(outside.code).toBe('STORE_CONFLICT');
        expect(outside.details['sqlstate']).toBe('23505');
        const inside = await expectRelaisError(store.transaction((tx) => tx.query('INSERT INTO t VALUES (1)')));
        expect(inside.code).toBe('STORE_CONFLICT');
        expect((await store.query('SELECT count(*) AS n FROM t')).rows).toEqual([{ n: '1' }]);
      });

      it('maps other failures to STORE_QUERY_FAILED with the SQLSTATE', async () => {
        const error = await expectRelaisError(store.query('SELEKT 1'));
        expect(error.code).toBe('STORE_QUERY_FAILED');
        expect(error.details['sqlstate']).toBe('42601');
        expect(error.retryable).toBe(false);
      });

      it('answers ping while open and reports STORE_UNAVAILABLE once closed', async () => {
        await store.ping();
        await store.close();
        expect((await expectRelaisError(store.ping())).code).toBe('STORE_UNAVAILABLE');
        expect((await expectRelaisError(store.query('SELECT 1'))).code).toBe('STORE_UNAVAILABLE');
      });
    });

    describe('migrations', () => {
      it('applies each migration once, however often it runs', async () => {
        expect((await migrate(store, { owner: 'svc', migrations: MIGRATIONS })).applied).toEqual([1, 2, 3]);
        expect((await migrate(store, { owner: 'svc', migrations: MIGRATIONS })).applied).toEqual([]);
        const { rows } = await store.query('SELECT owner, version, name FROM schema_migrations ORDER BY version');
        expect(rows).toEqual([
          { owner: 'svc', version: 1, name: 'widgets' },
          { owner: 'svc', version: 2, name: 'widget_color' },
          { owner: 'svc', version: 3, name: 'gadgets' },
        ]);
        await store.query(`INSERT INTO widgets (id, name, color) VALUES (1, 'a', 'red')`);
      });

      it('numbers versions per owner', async () => {
        await migrateKernel(store);
        expect((await migrate(store, { owner: 'svc', migrations: MIGRATIONS.slice(0, 1) })).applied).toEqual([1]);
        expect((await migrateKernel(store)).applied).toEqual([]);
      });

      it('serializes concurrent migrators: every migration applied exactly once, no error', async () => {
        const migrators = [store, await peer(), await peer()];
        const results = await Promise.all(
          migrators.map((s) => migrate(s, { owner: 'svc', migrations: MIGRATIONS })),
        );
        expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3]);
        const { rows } = await store.query('SELECT version FROM schema_migrations WHERE owner = $1', ['svc']);
        expect(rows).toHaveLength(3);
      });

      it('refuses to run when an applied migration was edited', async () => {
        await migrate(store, { owner: 'svc', migrations: MIGRATIONS });
        const edited = MIGRATIONS.map((m) => (m.version === 2 ? { ...m, sql: `${m.sql}\n-- tweak` } : m));
        const error = await expectRelaisError(migrate(store, { owner: 'svc', migrations: edited }));
        expect(error.code).toBe('STORE_MIGRATION_FAILED');
        expect(error.details['version']).toBe(2);
      });

      it('rolls back a failing migration and reports it', async () => {
        const broken: Migration[] = [
          MIGRATIONS[0]!,
          { version: 2, name: 'broken', sql: 'CREATE TABLE half (id int); SELECT * FROM nowhere;' },
        ];
        const error = await expectRelaisError(migrate(store, { owner: 'svc', migrations: broken }));
        expect(error.code).toBe('STORE_MIGRATION_FAILED');
        expect(error.details).toMatchObject({ version: 2, sqlstate: '42P01' });
        const { rows } = await store.query(`SELECT to_regclass('half') AS half, to_regclass('widgets') AS widgets`);
        expect(rows[0]).toMatchObject({ half: null });
        expect(rows[0]?.['widgets']).not.toBeNull();
      });
    });

    describe('outbox', () => {
      beforeEach(async () => {
        await migrateKernel(store);
      });

      async function enqueue(count: number, perTransaction: number): Promise<Set<string>> {
        const ids = new Set<string>();
        for (let done = 0; done < count; done += perTransaction) {
          await store.transaction(async (tx) => {
            for (let i = done; i < Math.min(count, done + perTransaction); i++) {
              const envelope = outboxEnvelope();
              ids.add(envelope.id);
              await enqueueOutbox(tx, envelope);
            }
          });
        }
        return ids;
      }

      async function unpublished(): Promise<number> {
        const { rows } = await store.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
        return Number(rows[0]?.n);
      }

      it('commits the event with the state change, or neither', async () => {
        await store.query('CREATE TABLE things (id int PRIMARY KEY)');
        await expect(
          store.transaction(async (tx) => {
            await tx.query('INSERT INTO things VALUES (1)');
            await enqueueOutbox(tx, outboxEnvelope());
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect((await store.query('SELECT * FROM outbox')).rows).toEqual([]);
        const envelope = outboxEnvelope();
        await store.transaction(async (tx) => {
          await tx.query('INSERT INTO things VALUES (1)');
          await enqueueOutbox(tx, envelope, { routingKey: 'pool-a' });
        });
        const { rows } = await store.query('SELECT id, routing_key, envelope FROM outbox');
        expect(rows).toEqual([{ id: envelope.id, routing_key: 'pool-a', envelope }]);
      });

      it('relays every row exactly once under two concurrent relays', async () => {
        const ids = await enqueue(2000, 200);
        const published: string[] = [];
        const perRelay = [0, 0];
        // With separate connections, hold each relay's first batch until both are inside
        // publish: the second must have skipped the first's locked rows, not waited on them.
        let inside = 0;
        let bothInside: () => void = () => {};
        const barrier = new Promise<void>((resolve) => {
          bothInside = resolve;
        });
        const recorder = (relay: 0 | 1) => async (envelopes: Envelope[]) => {
          if (fx.openPeer && perRelay[relay] === 0) {
            if (++inside === 2) bothInside();
            await Promise.race([barrier, new Promise((resolve) => setTimeout(resolve, 10_000))]);
          }
          await new Promise((resolve) => setTimeout(resolve, 1));
          perRelay[relay] = (perRelay[relay] ?? 0) + envelopes.length;
          published.push(...envelopes.map((e) => e.id));
        };
        const second = await peer();
        relays.push(
          startOutboxRelay({ store, publish: recorder(0), logger: silentLogger, batchSize: 50, pollIntervalMs: 20 }),
          startOutboxRelay({ store: second, publish: recorder(1), logger: silentLogger, batchSize: 50, pollIntervalMs: 20 }),
        );
        await waitFor(async () => published.length >= ids.size && (await unpublished()) === 0, 25_000);
        await Promise.all(relays.splice(0).map((relay) => relay.stop()));
        expect(published).toHaveLength(ids.size);
        expect(new Set(published)).toEqual(ids);
        expect(await unpublished()).toBe(0);
        if (fx.openPeer) expect(perRelay.every((n) => n > 0)).toBe(true);
      });

      it('passes routing keys along with their envelopes', async () => {
        const a = outboxEnvelope();
        const b = outboxEnvelope();
        await store.transaction(async (tx) => {
          await enqueueOutbox(tx, a, { routingKey: 'pool-a' });
          await enqueueOutbox(tx, b);
        });
        const seen: Array<[string, string | undefined]> = [];
        const relay = startOutboxRelay({
          store,
          logger: silentLogger,
          pollIntervalMs: 60_000,
          publish: async (envelopes, keys) => {
            envelopes.forEach((e, i) => seen.push([e.id, keys[i]]));
          },
        });
        relays.push(relay);
        await waitFor(async () => seen.length === 2, 5_000);
        expect(seen).toEqual([
          [a.id, 'pool-a'],
          [b.id, undefined],
        ]);
      });

      it('keeps rows whose publish failed and relays them later', async () => {
        const ids = await enqueue(120, 120);
        let calls = 0;
        const published: string[] = [];
        relays.push(
          startOutboxRelay({
            store,
            logger: silentLogger,
            batchSize: 50,
            pollIntervalMs: 20,
            retryDelay: { initialMs: 10, maxMs: 50 },
            publish: async (envelopes) => {
              calls += 1;
              if (calls === 1) throw new RelaisError('BUS_PUBLISH_FAILED', 'broker said no');
              published.push(...envelopes.map((e) => e.id));
            },
          }),
        );
        await waitFor(async () => (await unpublished()) === 0, 10_000);
        expect(calls).toBeGreaterThan(1);
        expect(new Set(published)).toEqual(ids);
      });

      it('wakes on commit without waiting for the poll interval', async () => {
        const published: string[] = [];
        relays.push(
          startOutboxRelay({
            store,
            logger: silentLogger,
            pollIntervalMs: 60_000,
            publish: async (envelopes) => {
              published.push(...envelopes.map((e) => e.id));
            },
          }),
        );
        // Let the relay finish its first (empty) scan and go to sleep.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const ids = await enqueue(3, 3);
        await waitFor(async () => published.length === 3, 5_000);
        expect(new Set(published)).toEqual(ids);
      });

      it('drains on demand and stops after the batch in progress', async () => {
        await enqueue(10, 10);
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let started = false;
        const relay = startOutboxRelay({
          store,
          logger: silentLogger,
          pollIntervalMs: 60_000,
          publish: async () => {
            started = true;
            await gate;
          },
        });
        await waitFor(async () => started, 5_000);
        const stopped = relay.stop();
        release();
        await stopped;
        expect(await unpublished()).toBe(0);
        await enqueue(5, 5);
        expect(await relay.drainOnce()).toBe(5);
        expect(await relay.drainOnce()).toBe(0);
      });
    });

    describe('bulk copy', () => {
      const AWKWARD = [
        'tab\there',
        'new\nline',
        'carriage\rreturn',
        'back\\slash \\N not null',
        `"double" and 'single' quotes`,
        'comma, semicolon; pipe|',
        'unicode: é 中文 🚀 \u2028',
        '',
        '\\.',
      ];

      function awkwardRow(i: number): unknown[] {
        const text = i % 10 === 9 ? null : `${AWKWARD[i % AWKWARD.length]} #${i}`;
        const json = i % 7 === 0 ? null : { i, s: AWKWARD[i % AWKWARD.length], nested: [1, null, 'x\ty'] };
        return [i, text, json, i % 5 === 0 ? null : i * 1.5, new Date(Date.UTC(2024, 0, 1) + i * 1000), i % 2 === 0];
      }

      beforeEach(async () => {
        await store.query(
          'CREATE TABLE bulk (id int PRIMARY KEY, t text, j jsonb, n double precision, ts timestamptz, b boolean)',
        );
      });

      it('copies 100k awkward rows exactly', async () => {
        const count = 100_000;
        function* rows(): Generator<unknown[]> {
          for (let i = 0; i < count; i++) yield awkwardRow(i);
        }
        expect(await store.copyRows('bulk', ['id', 't', 'j', 'n', 'ts', 'b'], rows())).toBe(count);
        const { rows: stored } = await store.query<{ id: number; t: string | null; j: unknown; n: number | null; ts: Date; b: boolean }>(
          'SELECT id, t, j, n, ts, b FROM bulk ORDER BY id',
        );
        expect(stored).toHaveLength(count);
        for (const row of stored) {
          const [id, t, j, n, ts, b] = awkwardRow(row.id);
          if (row.id !== id || row.t !== t || row.n !== n || row.b !== b || row.ts.getTime() !== (ts as Date).getTime()) {
            expect(row).toEqual({ id, t, j, n, ts, b });
          }
          if (JSON.stringify(row.j) !== JSON.stringify(j)) expect(row.j).toEqual(j);
        }
      });

      it('pulls rows from an async source', async () => {
        async function* rows(): AsyncGenerator<unknown[]> {
          for (let i = 0; i < 25_000; i++) yield awkwardRow(i);
        }
        expect(await store.copyRows('bulk', ['id', 't', 'j', 'n', 'ts', 'b'], rows())).toBe(25_000);
        expect((await store.query('SELECT count(*) AS n FROM bulk')).rows).toEqual([{ n: '25000' }]);
      });

      it('copies nothing when one row fails', async () => {
        const rows = [awkwardRow(1), awkwardRow(2), awkwardRow(1)];
        const error = await expectRelaisError(store.copyRows('bulk', ['id', 't', 'j', 'n', 'ts', 'b'], rows));
        expect(error.code).toBe('STORE_CONFLICT');
        expect((await store.query('SELECT count(*) AS n FROM bulk')).rows).toEqual([{ n: '0' }]);
        await store.ping();
      });

      it('copies inside a transaction and rolls back with it', async () => {
        await expect(
          store.transaction(async (tx) => {
            expect(await tx.copyRows('bulk', ['id', 't'], [[1, 'a'], [2, null]])).toBe(2);
            expect((await tx.query('SELECT count(*) AS n FROM bulk')).rows).toEqual([{ n: '2' }]);
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect((await store.query('SELECT count(*) AS n FROM bulk')).rows).toEqual([{ n: '0' }]);
      });

      it('rejects rows of the wrong width', async () => {
        const error = await expectRelaisError(store.copyRows('bulk', ['id', 't'], [[1, 'a', 'extra']]));
        expect(error.code).toBe('VALIDATION_FAILED');
        await store.ping();
      });
    });

    describe('inbox dedupe', () => {
      beforeEach(async () => {
        await migrateKernel(store);
      });

      it('remembers what a consumer handled', async () => {
        const dedupe = createStoreDedupe(store);
        const id = randomUUID();
        expect(await dedupe.has('analytics', id)).toBe(false);
        await dedupe.add('analytics', id);
        await dedupe.add('analytics', id);
        expect(await dedupe.has('analytics', id)).toBe(true);
        expect(await dedupe.has('campaign', id)).toBe(false);
      });

      it('claims an envelope once inside the handler transaction', async () => {
        const id = randomUUID();
        expect(await store.transaction((tx) => claimInbox(tx, 'dispatcher', id))).toBe(true);
        expect(await store.transaction((tx) => claimInbox(tx, 'dispatcher', id))).toBe(false);
        await expect(
          store.transaction(async (tx) => {
            await claimInbox(tx, 'relay', id);
            throw new Error('handler failed');
          }),
        ).rejects.toThrow('handler failed');
        expect(await createStoreDedupe(store).has('relay', id)).toBe(false);
      });
    });
  });
}
