import { createEnvelope, type MessageId, type TenantId } from '@relais/domain';
import { enqueueOutbox, type Queryable, type Store } from '@relais/store';
import { repeatedSoftBounceSuppression } from '../domain/soft-bounces';
import type {
  BounceRecord,
  BounceStore,
  BouncedMessage,
  RecordOutcome,
  SoftBouncePolicy,
  SuppressionRequest,
} from '../ports';

const FIND_MESSAGE = `
SELECT id, tenant_id, campaign_id, contact_id, email
FROM messages
WHERE id = $1 AND tenant_id = $2`;

const FIND_MESSAGE_ANY_TENANT = `
SELECT id, tenant_id, campaign_id, contact_id, email
FROM messages
WHERE id = $1`;

// Keyed by the reporting event's id (or the inbound report's): a redelivered event inserts
// nothing, and the caller then skips the suppression too, because the first delivery
// already did it.
const INSERT_BOUNCE = `
INSERT INTO bounces (id, tenant_id, message_id, campaign_id, email, source, reason, hard,
                     confidence, status, reply_code, diagnostic)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (id) DO NOTHING`;

// Served by bounces_address (tenant_id, email, created_at DESC); the row just inserted counts.
const COUNT_SOFT_BOUNCES = `
SELECT count(*) AS n
FROM bounces
WHERE tenant_id = $1 AND email = $2 AND NOT hard
  AND created_at > now() - make_interval(secs => $3::double precision / 1000)`;

// An address suppressed before (by the API, an import, another bounce) keeps its first
// reason, and no second `suppression.added` is announced.
const INSERT_SUPPRESSION = `
INSERT INTO suppressions (tenant_id, kind, value, reason, source)
VALUES ($1, 'address', $2, $3, $4)
ON CONFLICT (tenant_id, kind, value) DO NOTHING`;

interface MessageRow {
  id: BouncedMessage['id'];
  tenant_id: BouncedMessage['tenantId'];
  campaign_id: BouncedMessage['campaignId'];
  contact_id: BouncedMessage['contactId'];
  email: string;
}

/** The message row of `messageId`, scoped to `tenantId` unless it is null. */
export async function findMessageIn(
  tx: Queryable,
  messageId: MessageId,
  tenantId: TenantId | null,
): Promise<BouncedMessage | undefined> {
  const { rows } =
    tenantId === null
      ? await tx.query<MessageRow>(FIND_MESSAGE_ANY_TENANT, [messageId])
      : await tx.query<MessageRow>(FIND_MESSAGE, [messageId, tenantId]);
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    campaignId: row.campaign_id,
    contactId: row.contact_id,
    email: row.email,
  };
}

/**
 * Adds the address to the tenant's suppression list and, when it was not there yet,
 * enqueues `suppression.added`; returns whether it was added.
 */
export async function suppressIn(
  tx: Queryable,
  suppression: SuppressionRequest,
  source: 'bounce' | 'complaint',
): Promise<boolean> {
  const added = await tx.query(INSERT_SUPPRESSION, [
    suppression.tenantId,
    suppression.email,
    suppression.reason,
    source,
  ]);
  if (added.rowCount === 0) return false;
  await enqueueOutbox(
    tx,
    createEnvelope({
      type: 'suppression.added',
      tenantId: suppression.tenantId,
      traceparent: suppression.traceparent,
      data: {
        email: suppression.email,
        reason: suppression.reason,
        class: suppression.class,
        confidence: suppression.confidence,
      },
    }),
  );
  return true;
}

/**
 * `BounceStore.recordBounce` inside the caller's transaction, for both the event path and
 * the report worker. A soft bounce is counted with the address's earlier soft bounces in
 * the policy's window; reaching the threshold suppresses the address.
 */
export async function recordBounceIn(
  tx: Queryable,
  record: BounceRecord,
  suppression: SuppressionRequest | undefined,
  softBounces: SoftBouncePolicy | undefined,
  traceparent: string | null,
): Promise<RecordOutcome> {
  const bounce = await tx.query(INSERT_BOUNCE, [
    record.id,
    record.tenantId,
    record.messageId,
    record.campaignId,
    record.email,
    record.source,
    record.reason,
    record.hard,
    record.confidence,
    record.status,
    record.replyCode,
    record.diagnostic,
  ]);
  if (bounce.rowCount === 0) return { kind: 'duplicate' };
  if (suppression !== undefined) {
    const added = await suppressIn(tx, suppression, 'bounce');
    return { kind: 'recorded', suppressed: added ? 'hard' : false };
  }
  if (record.hard || softBounces === undefined || softBounces.threshold === 0) {
    return { kind: 'recorded', suppressed: false };
  }
  const { rows } = await tx.query<{ n: string | number }>(COUNT_SOFT_BOUNCES, [
    record.tenantId,
    record.email,
    softBounces.windowMs,
  ]);
  const repeated = repeatedSoftBounceSuppression(
    record,
    Number(rows[0]?.n ?? 0),
    softBounces,
    traceparent,
  );
  if (repeated === undefined) return { kind: 'recorded', suppressed: false };
  const added = await suppressIn(tx, repeated, 'bounce');
  return { kind: 'recorded', suppressed: added ? 'soft_bounce_repeated' : false };
}

/** What the SQL bounce store needs besides the store. */
export interface SqlBounceStoreOptions {
  /** Repeated soft bounces suppress the address; absent: soft bounces are only recorded. */
  softBounces?: SoftBouncePolicy;
}

/** The BounceStore of relais' PostgreSQL data model (either store driver). */
export function createSqlBounceStore(
  store: Store,
  options: SqlBounceStoreOptions = {},
): BounceStore {
  return {
    findMessage: (tenantId: TenantId, messageId: MessageId) =>
      findMessageIn(store, messageId, tenantId),

    recordBounce: (record, suppression, traceparent = null) =>
      store.transaction((tx) =>
        recordBounceIn(tx, record, suppression, options.softBounces, traceparent),
      ),
  };
}
