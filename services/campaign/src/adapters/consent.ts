import { RelaisError, type TenantId } from '@relais/domain';
import type { Store } from '@relais/store';

/** One consent decision as recorded: the ledger row, never edited afterwards. */
export interface ConsentRecord {
  id: string;
  purpose: string;
  granted: boolean;
  recordedAt: Date;
  source: string;
  ip: string | null;
  textVersion: string | null;
}

export interface RecordConsent {
  purpose: string;
  granted: boolean;
  source: string;
  ip?: string | undefined;
  textVersion?: string | undefined;
  /** When the person decided; defaults to now. A late-arriving older record never overrides a newer one. */
  recordedAt?: Date | undefined;
}

type LedgerRow = {
  id: string;
  purpose: string;
  granted: boolean;
  recorded_at: Date;
  source: string;
  ip: string | null;
  text_version: string | null;
};

function toRecord(row: LedgerRow): ConsentRecord {
  return {
    id: String(row.id),
    purpose: row.purpose,
    granted: row.granted,
    recordedAt: row.recorded_at,
    source: row.source,
    ip: row.ip,
    textVersion: row.text_version,
  };
}

/**
 * Appends to the ledger and refreshes the contact's current state for the purpose in the
 * same transaction. The current state follows the latest `recordedAt`, not arrival order.
 */
export async function recordConsent(
  store: Store,
  tenantId: TenantId,
  contactId: string,
  input: RecordConsent,
): Promise<ConsentRecord> {
  return store.transaction(async (tx) => {
    const { rows: exists } = await tx.query(
      `SELECT 1 FROM contacts WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, contactId],
    );
    if (!exists[0]) {
      throw new RelaisError('NOT_FOUND', 'No contact with this id.', {
        details: { parameter: 'contactId' },
      });
    }
    const { rows } = await tx.query<LedgerRow>(
      `INSERT INTO consent_events (tenant_id, contact_id, purpose, granted, recorded_at, source, ip, text_version)
       VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()), $6, $7::inet, $8)
       RETURNING id, purpose, granted, recorded_at, source, host(ip) AS ip, text_version`,
      [
        tenantId,
        contactId,
        input.purpose,
        input.granted,
        input.recordedAt?.toISOString() ?? null,
        input.source,
        input.ip ?? null,
        input.textVersion ?? null,
      ],
    );
    const record = toRecord(rows[0]!);
    await tx.query(
      `UPDATE contacts SET
         consents = jsonb_set(consents, ARRAY[$3::text], $4::jsonb),
         updated_at = now()
       WHERE tenant_id = $1 AND id = $2
         AND coalesce((consents -> $3::text ->> 'at')::timestamptz, '-infinity') <= $5::timestamptz`,
      [
        tenantId,
        contactId,
        record.purpose,
        JSON.stringify({
          granted: record.granted,
          at: record.recordedAt.toISOString(),
          source: record.source,
          textVersion: record.textVersion,
        }),
        record.recordedAt.toISOString(),
      ],
    );
    return record;
  });
}

/** The contact's whole ledger, oldest first, with the current state per purpose. */
export async function consentHistory(
  store: Store,
  tenantId: TenantId,
  contactId: string,
): Promise<{ current: Record<string, unknown>; history: ConsentRecord[] }> {
  const { rows: contact } = await store.query<{ consents: Record<string, unknown> }>(
    `SELECT consents FROM contacts WHERE tenant_id = $1 AND id = $2`,
    [tenantId, contactId],
  );
  if (!contact[0]) {
    throw new RelaisError('NOT_FOUND', 'No contact with this id.', {
      details: { parameter: 'contactId' },
    });
  }
  const { rows } = await store.query<LedgerRow>(
    `SELECT id, purpose, granted, recorded_at, source, host(ip) AS ip, text_version
     FROM consent_events WHERE tenant_id = $1 AND contact_id = $2 ORDER BY recorded_at, id`,
    [tenantId, contactId],
  );
  return { current: contact[0].consents, history: rows.map(toRecord) };
}
