import { createEnvelope } from '@relais/domain';
import { enqueueOutbox, type Queryable } from '@relais/store';
import type { ComplaintOutcome, ComplaintRecord, ReportActions, SoftBouncePolicy } from '../ports';
import { findMessageIn, recordBounceIn, suppressIn } from './sql-bounce-store';

// As the one-click unsubscribe writes it (analytics): only an active contact changes, so a
// second complaint about the same contact adds no second withdrawal to the ledger.
const UNSUBSCRIBE = `
UPDATE contacts
SET status = 'unsubscribed',
    consents = jsonb_set(consents, '{marketing}', $3::jsonb),
    updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status <> 'unsubscribed'
RETURNING id`;

const WITHDRAWAL = `
INSERT INTO consent_events (tenant_id, contact_id, purpose, granted, recorded_at, source)
VALUES ($1, $2, 'marketing', false, $3::timestamptz, 'complaint')`;

/** The report worker's writes, bound to the transaction that marks the report processed. */
export function createSqlReportActions(
  tx: Queryable,
  options: { softBounces?: SoftBouncePolicy } = {},
): ReportActions {
  return {
    findMessage: (messageId) => findMessageIn(tx, messageId, null),

    recordBounce: (record, suppression, traceparent = null) =>
      recordBounceIn(tx, record, suppression, options.softBounces, traceparent),

    async recordComplaint(complaint: ComplaintRecord): Promise<ComplaintOutcome> {
      const { message, at } = complaint;
      const consent = { granted: false, at: at.toISOString(), source: 'complaint' };
      // Submitted mail has no contact to unsubscribe; its address is still suppressed.
      const { rows } =
        message.contactId === null
          ? { rows: [] }
          : await tx.query(UNSUBSCRIBE, [
              message.tenantId,
              message.contactId,
              JSON.stringify(consent),
            ]);
      const unsubscribed = rows.length > 0;
      if (unsubscribed) {
        await tx.query(WITHDRAWAL, [message.tenantId, message.contactId, at.toISOString()]);
      }
      const suppressed = await suppressIn(
        tx,
        {
          tenantId: message.tenantId,
          email: message.email,
          reason: 'complaint',
          class: 'complaint',
          confidence: 1,
          traceparent: null,
        },
        'complaint',
      );
      // Every report is announced, a repeated one too: how often a message is reported is
      // itself a reputation signal.
      await enqueueOutbox(
        tx,
        createEnvelope({
          type: 'complaint.received',
          tenantId: message.tenantId,
          data: {
            messageId: message.id,
            ...(message.campaignId === null ? {} : { campaignId: message.campaignId }),
            ...(message.contactId === null ? {} : { contactId: message.contactId }),
            feedbackType: complaint.feedbackType.slice(0, 64),
            ...(complaint.userAgent === undefined
              ? {}
              : { userAgent: complaint.userAgent.slice(0, 200) }),
          },
        }),
      );
      return { unsubscribed, suppressed };
    },
  };
}
