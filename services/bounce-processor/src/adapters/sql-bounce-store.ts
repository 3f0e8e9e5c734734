import { createEnvelope, type MessageId, type TenantId } from '@relais/domain';
import { enqueueOutbox, type Store } from '@relais/store';
import type { BounceStore, BouncedMessage, RecordOutcome } from '../ports';

const FIND_MESSAGE = `
SELECT id, tenant_id, campaign_id, contact_id, email
FROM messages
WHERE id = $1 AND tenant_id = $2`;

// Keyed by the reporting event's id: a redelivered event inserts nothing, and the caller
// then skips the suppression too, because the first delivery already did it.
const INSERT_BOUNCE = `
INSERT INTO bounces (id, tenant_id, message_id, campaign_id, email, source, reason, hard,
                     confidence, status, reply_code, diagnostic)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (id) DO NOTHING`;

// An address suppressed before (by the API, an import, another bounce) keeps its first
// reason, and no second `suppression.added` is announced.
const INSERT_SUPPRESSION = `
INSERT INTO suppressions (tenant_id, kind, value, reason, source)
VALUES ($1, 'address', $2, $3, 'bounce')
ON CONFLICT (tenant_id, kind, value) DO NOTHING`;

interface MessageRow {
  id: BouncedMessage['id'];
  tenant_id: BouncedMessage['tenantId'];
  campaign_id: BouncedMessage['campaignId'];
  contact_id: BouncedMessage['contactId'];
  email: string;
}

/** The BounceStore of relais' PostgreSQL data model (either store driver). */
export function createSqlBounceStore(store: Store): BounceStore {
  return {
    async findMessage(tenantId: TenantId, messageId: MessageId) {
      const { rows } = await store.query<MessageRow>(FIND_MESSAGE, [messageId, tenantId]);
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        id: row.id,
        tenantId: row.tenant_id,
        campaignId: row.campaign_id,
        contactId: row.contact_id,
        email: row.email,
      };
    },

    recordBounce: (record, suppression) =>
      store.transaction(async (tx): Promise<RecordOutcome> => {
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
        if (suppression === undefined) return { kind: 'recorded', suppressed: false };

        const added = await tx.query(INSERT_SUPPRESSION, [
          suppression.tenantId,
          suppression.email,
          suppression.reason,
        ]);
        if (added.rowCount === 0) return { kind: 'recorded', suppressed: false };
        await enqueueOutbox(
          tx,
          createEnvelope({
            type: 'suppression.added',
            tenantId: suppression.tenantId,
            traceparent: suppression.traceparent,
            data: { email: suppression.email, reason: suppression.reason },
          }),
        );
        return { kind: 'recorded', suppressed: true };
      }),
  };
}
