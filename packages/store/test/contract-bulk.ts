import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/index';
import { expectRelaisError, type ContractContext } from './contract-helpers';

/** The COPY path: escaping, atomicity, sources, transactions. */
export function defineBulkCases(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => {
    store = ctx.fx.store;
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
      const json =
        i % 7 === 0 ? null : { i, s: AWKWARD[i % AWKWARD.length], nested: [1, null, 'x\ty'] };
      return [
        i,
        text,
        json,
        i % 5 === 0 ? null : i * 1.5,
        new Date(Date.UTC(2024, 0, 1) + i * 1000),
        i % 2 === 0,
      ];
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
      const { rows: stored } = await store.query<{
        id: number;
        t: string | null;
        j: unknown;
        n: number | null;
        ts: Date;
        b: boolean;
      }>('SELECT id, t, j, n, ts, b FROM bulk ORDER BY id');
      expect(stored).toHaveLength(count);
      for (const row of stored) {
        const [id, t, j, n, ts, b] = awkwardRow(row.id);
        if (
          row.id !== id ||
          row.t !== t ||
          row.n !== n ||
          row.b !== b ||
          row.ts.getTime() !== (ts as Date).getTime()
        ) {
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
      const error = await expectRelaisError(
        store.copyRows('bulk', ['id', 't', 'j', 'n', 'ts', 'b'], rows),
      );
      expect(error.code).toBe('STORE_CONFLICT');
      expect((await store.query('SELECT count(*) AS n FROM bulk')).rows).toEqual([{ n: '0' }]);
      await store.ping();
    });

    it('copies inside a transaction and rolls back with it', async () => {
      await expect(
        store.transaction(async (tx) => {
          expect(
            await tx.copyRows(
              'bulk',
              ['id', 't'],
              [
                [1, 'a'],
                [2, null],
              ],
            ),
          ).toBe(2);
          expect((await tx.query('SELECT count(*) AS n FROM bulk')).rows).toEqual([{ n: '2' }]);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect((await store.query('SELECT count(*) AS n FROM bulk')).rows).toEqual([{ n: '0' }]);
    });

    it('rejects rows of the wrong width', async () => {
      const error = await expectRelaisError(
        store.copyRows('bulk', ['id', 't'], [[1, 'a', 'extra']]),
      );
      expect(error.code).toBe('VALIDATION_FAILED');
      await store.ping();
    });
  });
}
