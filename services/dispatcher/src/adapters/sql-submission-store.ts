import type { TenantId } from '@relais/domain';
import type { Queryable, Store } from '@relais/store';
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

/** Submitted messages as SQL, the same on PostgreSQL and PGlite. */
export function createSqlSubmissionStore(store: Store): SubmissionStore {
  return {
    async record({ tenantId, submissionId, idempotencyKey, recipients }) {
      const key = idempotencyKey ?? null;
      if (key !== null) {
        const earlier = await rowsByKey(store, tenantId, key);
        const first = earlier[0];
        if (first !== undefined) {
          return { submissionId: first.submission_id, rows: earlier.map(toRow), replayed: true };
        }
      }
      const inserted = await store.query<Row>(INSERT, [
        tenantId,
        submissionId,
        key,
        recipients.map((recipient) => recipient.messageId),
        recipients.map((recipient) => recipient.email),
        recipients.map((recipient) => recipient.email.slice(recipient.email.lastIndexOf('@') + 1)),
      ]);
      if (key === null) {
        const states = new Map(inserted.rows.map((row) => [row.id, row.state]));
        return {
          submissionId,
          // In the order given: the caller pairs rows with what it composed for them.
          rows: recipients.map((r) => ({
            messageId: r.messageId,
            email: r.email,
            state: states.get(r.messageId) ?? 'queued',
          })),
          replayed: false,
        };
      }
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
