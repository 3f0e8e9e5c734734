import type { TenantId } from '@relais/domain';
import { createMicroBatcher, type Queryable, type Store } from '@relais/store';
import type { SubmissionStore, SubmittedRow } from '../ports';

const BY_KEY = `
SELECT id, email, state, submission_id
FROM messages
WHERE tenant_id = $1 AND idempotency_key = $2
ORDER BY created_at, email`;

// No campaign, contact or variant: a submitted row is known by its submission (migration
// 0005). A suppressed address or domain (hard bounce, complaint, the API) is recorded
// `suppressed` and never published, as segmentation does for campaigns. A concurrent request
// with the same key loses on the unique index and reads the winner's rows afterwards.
const INSERT = `
INSERT INTO messages (id, tenant_id, email, domain, state, excluded_reason, submission_id,
                      idempotency_key)
SELECT m.id, $1::uuid, m.email, m.domain,
       CASE WHEN sa.value IS NULL AND sd.value IS NULL THEN 'queued' ELSE 'suppressed' END,
       CASE WHEN sa.value IS NULL AND sd.value IS NULL THEN NULL ELSE 'suppressed' END,
       $2, $3
FROM unnest($4::uuid[], $5::text[], $6::text[]) AS m(id, email, domain)
LEFT JOIN suppressions sa ON sa.tenant_id = $1::uuid AND sa.kind = 'address' AND sa.value = m.email
LEFT JOIN suppressions sd ON sd.tenant_id = $1::uuid AND sd.kind = 'domain' AND sd.value = m.domain
ON CONFLICT (tenant_id, idempotency_key, email) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, email, state, submission_id`;

// The same for the keyless submissions of concurrent sessions at once, each row with its own
// tenant and submission: one statement and one commit for all of them (group commit).
const INSERT_BATCH = `
INSERT INTO messages (id, tenant_id, email, domain, state, excluded_reason, submission_id)
SELECT m.id, m.tenant_id, m.email, m.domain,
       CASE WHEN sa.value IS NULL AND sd.value IS NULL THEN 'queued' ELSE 'suppressed' END,
       CASE WHEN sa.value IS NULL AND sd.value IS NULL THEN NULL ELSE 'suppressed' END,
       m.submission_id
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[])
       AS m(id, tenant_id, email, domain, submission_id)
LEFT JOIN suppressions sa ON sa.tenant_id = m.tenant_id AND sa.kind = 'address' AND sa.value = m.email
LEFT JOIN suppressions sd ON sd.tenant_id = m.tenant_id AND sd.kind = 'domain' AND sd.value = m.domain
RETURNING id, state`;

/** Submissions waiting together never exceed this many rows' worth of one statement. */
const BATCH_SUBMISSIONS = 256;

const MARK_FAILED = `
UPDATE messages
SET state = 'failed', updated_at = now()
WHERE id = ANY($2::uuid[]) AND tenant_id = $1 AND state = 'queued'`;

interface Row {
  id: string;
  email: string;
  state: string;
  submission_id: string;
}

async function rowsByKey(db: Queryable, tenantId: TenantId, key: string): Promise<Row[]> {
  return (await db.query<Row>(BY_KEY, [tenantId, key])).rows;
}

const toRow = (row: Row): SubmittedRow => ({
  messageId: row.id,
  email: row.email,
  state: row.state,
});

const domainOf = (email: string): string => email.slice(email.lastIndexOf('@') + 1);

type KeylessInput = Omit<Parameters<SubmissionStore['record']>[0], 'idempotencyKey'>;

type KeylessResult = Awaited<ReturnType<SubmissionStore['record']>>;

/** The rows of one keyless submission, in the order given, with the states the store set. */
function keylessResult(input: KeylessInput, states: ReadonlyMap<string, string>): KeylessResult {
  return {
    submissionId: input.submissionId,
    // In the order given: the caller pairs rows with what it composed for them.
    rows: input.recipients.map((r) => ({
      messageId: r.messageId,
      email: r.email,
      state: states.get(r.messageId) ?? 'queued',
    })),
    replayed: false,
  };
}

async function insertKeyless(
  db: Queryable,
  inputs: readonly KeylessInput[],
): Promise<KeylessResult[]> {
  const rows = inputs.flatMap((input) =>
    input.recipients.map((r) => ({ ...r, tenantId: input.tenantId, sub: input.submissionId })),
  );
  const inserted = await db.query<{ id: string; state: string }>(INSERT_BATCH, [
    rows.map((row) => row.messageId),
    rows.map((row) => row.tenantId),
    rows.map((row) => row.email),
    rows.map((row) => domainOf(row.email)),
    rows.map((row) => row.sub),
  ]);
  const states = new Map(inserted.rows.map((row) => [row.id, row.state]));
  return inputs.map((input) => keylessResult(input, states));
}

/**
 * Submitted messages as SQL, the same on PostgreSQL and PGlite.
 *
 * Submissions without an idempotency key (the bulk of SMTP submission) are grouped: those
 * of every session waiting in the same event-loop turn, or while the previous statement
 * runs, are inserted by one statement. Under load that is one commit for tens of messages
 * instead of one each, which took the submission's wait on PostgreSQL from about 13 ms to
 * a few at 20 concurrent sessions. If a grouped statement fails, each submission of the
 * group is retried alone, so one bad submission never fails its neighbours.
 */
export function createSqlSubmissionStore(store: Store): SubmissionStore {
  type Outcome = { ok: true; value: KeylessResult } | { ok: false; error: unknown };
  const keyless = createMicroBatcher<KeylessInput, Outcome>({
    batchSize: BATCH_SUBMISSIONS,
    flush: async (inputs) => {
      try {
        const values = await insertKeyless(store, inputs);
        return values.map((value): Outcome => ({ ok: true, value }));
      } catch (error) {
        if (inputs.length === 1) return [{ ok: false, error }];
        const alone = await Promise.allSettled(
          inputs.map((input) => insertKeyless(store, [input])),
        );
        return alone.map((result): Outcome =>
          result.status === 'fulfilled'
            ? { ok: true, value: result.value[0]! }
            : { ok: false, error: result.reason },
        );
      }
    },
  });
  return {
    async record({ tenantId, submissionId, idempotencyKey, recipients }) {
      const key = idempotencyKey ?? null;
      if (key === null) {
        const outcome = await keyless.record({ tenantId, submissionId, recipients });
        if (!outcome.ok) throw outcome.error;
        return outcome.value;
      }
      const earlier = await rowsByKey(store, tenantId, key);
      const first = earlier[0];
      if (first !== undefined) {
        return { submissionId: first.submission_id, rows: earlier.map(toRow), replayed: true };
      }
      await store.query<Row>(INSERT, [
        tenantId,
        submissionId,
        key,
        recipients.map((recipient) => recipient.messageId),
        recipients.map((recipient) => recipient.email),
        recipients.map((recipient) => domainOf(recipient.email)),
      ]);
      const rows = await rowsByKey(store, tenantId, key);
      const owner = rows[0]?.submission_id ?? submissionId;
      return { submissionId: owner, rows: rows.map(toRow), replayed: owner !== submissionId };
    },
    async markFailed(tenantId, messageIds) {
      if (messageIds.length === 0) return;
      await store.query(MARK_FAILED, [tenantId, messageIds]);
    },
  };
}
