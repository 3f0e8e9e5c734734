import { openStore, type Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { createTestSchema, probe } from '@relais/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSegment, parseSegmentRule, type SegmentRule } from '../src/index';
import { ISO_DATE_PATTERN } from '../src/dates';
import { CASES } from './cases';
import { ALL_EMAILS, NOW, seedContacts, TENANT } from './contacts';

/** Extremes of the pattern: leap days, end of months, fractions, offsets. */
const ADMITTED_DATES = [
  '1000-01-01',
  '9999-12-31T23:59:59.999999999+14:00',
  '2000-02-29T00:00',
  '2400-02-29 12:00:00Z',
  '2028-02-29T23:59-14:59',
  '2026-04-30T00:00:00+0530',
  '2026-12-31T23:59:59.5-00:30',
];

const logger = createLogger({ service: 'segments-test', level: 'silent' });
const postgres = await probe('postgres');

interface Driver {
  name: string;
  available: boolean;
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

const DRIVERS: Driver[] = [
  {
    name: 'pglite',
    available: true,
    open: async () => {
      const store = await openStore({ dataDir: 'memory://', logger });
      return { store, cleanup: () => store.close() };
    },
  },
  {
    name: 'postgres',
    available: postgres.available,
    open: async () => {
      const schema = await createTestSchema('relais_segments');
      const store = await openStore({ databaseUrl: schema.url, logger, poolSize: 2 });
      return {
        store,
        cleanup: async () => {
          await store.close();
          await schema.cleanup();
        },
      };
    },
  },
];

for (const driver of DRIVERS) {
  describe.runIf(driver.available)(`segments on ${driver.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ store, cleanup } = await driver.open());
      await seedContacts(store);
    });
    afterAll(async () => {
      await cleanup();
    });

    /** The tenant's emails a rule selects, the way callers embed the expression. */
    async function select(rule: SegmentRule): Promise<string[]> {
      const { sql, params } = compileSegment(rule, { firstParam: 2, now: NOW });
      const { rows } = await store.query<{ email: string }>(
        `SELECT email FROM contacts c WHERE c.tenant_id = $1 AND (${sql}) ORDER BY email COLLATE "C"`,
        [TENANT, ...params],
      );
      return rows.map((row) => row.email);
    }

    it.each(CASES)('selects exactly the expected contacts: $name', async ({ rule, expected }) => {
      const parsed = parseSegmentRule(rule);
      expect(await select(parsed)).toEqual([...expected].sort());
      // Two-valued logic: "not" must select exactly the rest, so no fragment may yield NULL.
      const rest = ALL_EMAILS.filter((email) => !expected.includes(email));
      expect(await select({ not: parsed })).toEqual(rest);
    });

    it('reads dates without an offset as UTC whatever the session time zone', async () => {
      const rule = parseSegmentRule({
        attribute: 'last_order_at',
        op: '>',
        value: { date: '2026-01-01' },
      });
      const { sql, params } = compileSegment(rule, { firstParam: 2, now: NOW });
      const emails = await store.transaction(async (tx) => {
        await tx.query("SET LOCAL TimeZone = 'Pacific/Kiritimati'");
        const { rows } = await tx.query<{ email: string }>(
          `SELECT email FROM contacts c WHERE c.tenant_id = $1 AND (${sql}) ORDER BY email`,
          [TENANT, ...params],
        );
        return rows.map((row) => row.email);
      });
      expect(emails).toEqual(await select(rule));
      expect(emails).toContain('rupert@example.com');
    });

    it('casts every spelling the date pattern admits without error', async () => {
      const { rows } = await store.query<{ ok: boolean; n: number }>(
        `SELECT bool_and(v::timestamptz IS NOT NULL) AS ok, count(*)::int AS n
           FROM unnest($1::text[]) AS v WHERE v ~ '${ISO_DATE_PATTERN}'`,
        [ADMITTED_DATES],
      );
      expect(rows).toEqual([{ ok: true, n: ADMITTED_DATES.length }]);
    });

    it('leaves the table intact after injection-shaped rules', async () => {
      const { rows } = await store.query<{ n: string }>('SELECT count(*) AS n FROM contacts');
      expect(Number(rows[0]?.n)).toBe(ALL_EMAILS.length + 1);
    });

    it('works under another alias and placeholder offset', async () => {
      const { sql, params } = compileSegment(parseSegmentRule({ tag: 'vip' }), {
        alias: 'contact',
        firstParam: 3,
      });
      const { rows } = await store.query<{ email: string }>(
        `SELECT email FROM contacts contact WHERE contact.tenant_id = $1 AND contact.status = $2 AND ${sql}`,
        [TENANT, 'active', ...params],
      );
      expect(rows.map((row) => row.email)).toEqual(['ada@example.com']);
    });
  });
}
