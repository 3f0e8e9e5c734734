import { describe, expect, it, beforeEach } from 'vitest';
import { migrate, migrateKernel, type Migration, type Store } from '../src/index';
import { expectRelaisError, type ContractContext } from './contract-helpers';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'widgets',
    sql: 'CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL);',
  },
  {
    version: 2,
    name: 'widget_color',
    sql: 'ALTER TABLE widgets ADD COLUMN color text;\nCREATE INDEX widgets_color_idx ON widgets (color);',
  },
  { version: 3, name: 'gadgets', sql: 'CREATE TABLE gadgets (id int PRIMARY KEY);' },
];

/** Statements, transactions, error mapping and migrations. */
export function defineCoreCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.fx.store;
  });
  const peer = () => ctx.peer();

  describe('queries and transactions', () => {
    it('maps values the same way on every driver', async () => {
      const { rows, rowCount } = await store.query<{
        n: string;
        j: unknown;
        t: Date;
        u: string | null;
      }>(
        `SELECT 9007199254740993::int8 AS n, '{"a":[1,"x"]}'::jsonb AS j, now() AS t, $1::text AS u`,
        [null],
      );
      expect(rowCount).toBe(1);
      expect(rows[0]).toMatchObject({ n: '9007199254740993', j: { a: [1, 'x'] }, u: null });
      expect(rows[0]?.t).toBeInstanceOf(Date);
    });

    it('reports affected rows for DML', async () => {
      await store.exec(
        'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, $$a$$), (2, $$b$$);',
      );
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
      expect((await store.query('SELECT id FROM t ORDER BY id')).rows).toEqual([
        { id: 1 },
        { id: 2 },
      ]);
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
      const inside = await expectRelaisError(
        store.transaction((tx) => tx.query('INSERT INTO t VALUES (1)')),
      );
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
      expect((await migrate(store, { owner: 'svc', migrations: MIGRATIONS })).applied).toEqual([
        1, 2, 3,
      ]);
      expect((await migrate(store, { owner: 'svc', migrations: MIGRATIONS })).applied).toEqual([]);
      const { rows } = await store.query(
        'SELECT owner, version, name FROM schema_migrations ORDER BY version',
      );
      expect(rows).toEqual([
        { owner: 'svc', version: 1, name: 'widgets' },
        { owner: 'svc', version: 2, name: 'widget_color' },
        { owner: 'svc', version: 3, name: 'gadgets' },
      ]);
      await store.query(`INSERT INTO widgets (id, name, color) VALUES (1, 'a', 'red')`);
    });

    it('numbers versions per owner', async () => {
      await migrateKernel(store);
      expect(
        (await migrate(store, { owner: 'svc', migrations: MIGRATIONS.slice(0, 1) })).applied,
      ).toEqual([1]);
      expect((await migrateKernel(store)).applied).toEqual([]);
    });

    it('serializes concurrent migrators: every migration applied exactly once, no error', async () => {
      const migrators = [store, await peer(), await peer()];
      const results = await Promise.all(
        migrators.map((s) => migrate(s, { owner: 'svc', migrations: MIGRATIONS })),
      );
      expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3]);
      const { rows } = await store.query('SELECT version FROM schema_migrations WHERE owner = $1', [
        'svc',
      ]);
      expect(rows).toHaveLength(3);
    });

    it('refuses to run when an applied migration was edited', async () => {
      await migrate(store, { owner: 'svc', migrations: MIGRATIONS });
      const edited = MIGRATIONS.map((m) =>
        m.version === 2 ? { ...m, sql: `${m.sql}\n-- tweak` } : m,
      );
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
      const { rows } = await store.query(
        `SELECT to_regclass('half') AS half, to_regclass('widgets') AS widgets`,
      );
      expect(rows[0]).toMatchObject({ half: null });
      expect(rows[0]?.['widgets']).not.toBeNull();
    });
  });
}
