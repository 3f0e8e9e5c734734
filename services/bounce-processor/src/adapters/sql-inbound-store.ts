import { randomUUID } from 'node:crypto';
import type { Store } from '@relais/store';
import type { InboundMail, InboundMailSink } from '../ports';

/**
 * Keeps each accepted message in `inbound_reports`, one row per recipient, in one
 * transaction; the tenant is the one of the message the VERP token names (null for
 * feedback reports, or when the message row is gone). The parser works from these rows.
 */
export function createSqlInboundStore(store: Store): InboundMailSink {
  return {
    onMessage: (mail: InboundMail) =>
      store.transaction(async (tx) => {
        for (const recipient of mail.recipients) {
          const messageId = recipient.kind === 'verp' ? recipient.messageId : null;
          await tx.query(
            `INSERT INTO inbound_reports (id, tenant_id, message_id, rcpt_to, mail_from, raw, received_at)
             VALUES ($1, (SELECT tenant_id FROM messages WHERE id = $2::uuid), $2::uuid, $3, $4, $5, $6)`,
            [
              randomUUID(),
              messageId,
              recipient.address,
              mail.mailFrom,
              mail.raw,
              mail.receivedAt.toISOString(),
            ],
          );
        }
      }),
  };
}
