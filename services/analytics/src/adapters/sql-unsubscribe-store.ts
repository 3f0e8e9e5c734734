import { createEnvelope, type MessageId, type TenantId } from '@relais/domain';
import { enqueueOutbox, type Store } from '@relais/store';
import type { UnsubscribeResult, UnsubscribeStore } from '../ports';

const MESSAGE = `SELECT tenant_id, contact_id FROM messages WHERE id = $1`;

// Only an active contact changes: a replayed POST finds it unsubscribed and records nothing.
const UNSUBSCRIBE = `
UPDATE contacts
SET status = 'unsubscribed',
    consents = jsonb_set(consents, '{marketing}', $3::jsonb),
    updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status <> 'unsubscribed'
RETURNING id`;

const WITHDRAWAL = `
INSERT INTO consent_events (tenant_id, contact_id, purpose, granted, recorded_at, source, ip)
VALUES ($1, $2, 'marketing', false, $3::timestamptz, 'one-click-unsubscribe', $4::inet)`;

/**
 * The one-click unsubscribe as SQL, the same on PostgreSQL and PGlite. One transaction:
 * the contact's status and current consent, a withdrawal row in the consent ledger (the
 * record of it, with when and from where), and `engagement.unsubscribed` through the outbox.
 */
export function createSqlUnsubscribeStore(store: Store): UnsubscribeStore {
  return {
    unsubscribe(
      messageId: MessageId,
      at: Date,
      ip: string | undefined,
    ): Promise<UnsubscribeResult> {
      return store.transaction(async (tx) => {
        const { rows } = await tx.query<{ tenant_id: TenantId; contact_id: string }>(MESSAGE, [
          messageId,
        ]);
        const message = rows[0];
        if (message === undefined) return { kind: 'unknown' };
        const consent = { granted: false, at: at.toISOString(), source: 'one-click-unsubscribe' };
        const { rows: changed } = await tx.query(UNSUBSCRIBE, [
          message.tenant_id,
          message.contact_id,
          JSON.stringify(consent),
        ]);
        if (changed.length === 0) return { kind: 'already' };
        await tx.query(WITHDRAWAL, [
          message.tenant_id,
          message.contact_id,
          at.toISOString(),
          ip ?? null,
        ]);
        await enqueueOutbox(
          tx,
          createEnvelope({
            type: 'engagement.unsubscribed',
            tenantId: message.tenant_id,
            data: { messageId, contactId: message.contact_id },
          }),
        );
        return { kind: 'unsubscribed' };
      });
    },
  };
}
