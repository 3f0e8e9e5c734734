import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantId } from '@relais/domain';
import type { Store } from '@relais/store';
import { createSqlSubmissionStore } from '../src/adapters/sql-submission-store';
import { drivers, openMigrated } from './fixtures';

// Keyless submissions of concurrent sessions share one INSERT (group commit): each row must
// still land under its own tenant and submission, with its own suppression verdict, and a
// submission that cannot be inserted must fail alone.

const tenants = [randomUUID(), randomUUID()] as TenantId[];

describe.each(drivers)('submission store on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    for (const id of tenants) {
      await store.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, `t-${id}`]);
    }
    await store.query(
      `INSERT INTO suppressions (tenant_id, kind, value, reason) VALUES ($1, 'address', $2, 'hard_bounce'),
       ($1, 'domain', 'closed.test', 'api')`,
      [tenants[1], 'gone@example.test'],
    );
  });
  afterAll(() => drop());

  it('records concurrent keyless submissions of several tenants together, each as its own', async () => {
    const submissions = Array.from({ length: 12 }, (_, i) => ({
      tenantId: tenants[i % 2]!,
      submissionId: randomUUID(),
      recipients: ['gone@example.test', `r${i}@closed.test`, `r${i}@example.test`].map((email) => ({
        messageId: randomUUID(),
        email,
      })),
    }));
    let statements = 0;
    const counting = new Proxy(store, {
      get: (target, key, receiver) =>
        key === 'query'
          ? (...args: Parameters<Store['query']>) => {
              statements += 1;
              return target.query(...args);
            }
          : Reflect.get(target, key, receiver),
    });
    const submissionStore = createSqlSubmissionStore(counting);
    const recorded = await Promise.all(submissions.map((s) => submissionStore.record(s)));
    // All twelve arrived in the same turn: one statement.
    expect(statements).toBe(1);
    expect(recorded).toHaveLength(12);
    recorded.forEach((result, i) => {
      const tenantB = i % 2 === 1;
      expect(result.submissionId).toBe(submissions[i]!.submissionId);
      expect(result.replayed).toBe(false);
      expect(result.rows.map((row) => [row.messageId, row.email, row.state])).toEqual(
        submissions[i]!.recipients.map((r, j) => [
          r.messageId,
          r.email,
          // Only tenant B suppressed the address and the domain.
          tenantB && j < 2 ? 'suppressed' : 'queued',
        ]),
      );
    });
    const stored = await store.query<{ id: string; tenant_id: string; submission_id: string }>(
      'SELECT id, tenant_id, submission_id FROM messages WHERE submission_id IS NOT NULL',
    );
    const byId = new Map(stored.rows.map((row) => [row.id, row]));
    for (const s of submissions) {
      for (const r of s.recipients) {
        expect(byId.get(r.messageId)).toMatchObject({
          tenant_id: s.tenantId,
          submission_id: s.submissionId,
        });
      }
    }
  });

  it('fails only the submission that cannot be inserted, not the ones grouped with it', async () => {
    const taken = randomUUID();
    await createSqlSubmissionStoreOnce(store).record({
      tenantId: tenants[0]!,
      submissionId: randomUUID(),
      recipients: [{ messageId: taken, email: 'first@example.test' }],
    });
    const good = Array.from({ length: 4 }, () => ({
      tenantId: tenants[0]!,
      submissionId: randomUUID(),
      recipients: [{ messageId: randomUUID(), email: 'ok@example.test' }],
    }));
    const clash = {
      tenantId: tenants[0]!,
      submissionId: randomUUID(),
      // A message id already used: the primary key refuses it.
      recipients: [{ messageId: taken, email: 'again@example.test' }],
    };
    const results = await Promise.allSettled(
      [good[0]!, good[1]!, clash, good[2]!, good[3]!].map((s) =>
        createSqlSubmissionStoreOnce(store).record(s),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const stored = await store.query<{ n: string }>(
      'SELECT count(*) AS n FROM messages WHERE submission_id = ANY($1::uuid[])',
      [good.map((s) => s.submissionId)],
    );
    expect(Number(stored.rows[0]!.n)).toBe(4);
  });
});

const instances = new WeakMap<Store, ReturnType<typeof createSqlSubmissionStore>>();
/** One submission store per database, as the dispatcher has: the grouping is per instance. */
function createSqlSubmissionStoreOnce(store: Store): ReturnType<typeof createSqlSubmissionStore> {
  let instance = instances.get(store);
  if (instance === undefined) {
    instance = createSqlSubmissionStore(store);
    instances.set(store, instance);
  }
  return instance;
}
