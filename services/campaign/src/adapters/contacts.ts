import { RelaisError, normalizeEmail, type TenantId } from '@relais/domain';
import type { Queryable, Store } from '@relais/store';

/** A contact as the API shows it. */
export interface Contact {
  id: string;
  email: string;
  domain: string;
  attributes: Record<string, unknown>;
  tags: string[];
  status: 'active' | 'unsubscribed';
  consents: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

type ContactRow = {
  id: string;
  email: string;
  domain: string;
  attributes: Record<string, unknown>;
  tags: string[];
  status: 'active' | 'unsubscribed';
  consents: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
};

const COLUMNS = 'id, email, domain, attributes, tags, status, consents, created_at, updated_at';

function toContact(row: ContactRow): Contact {
  return {
    id: row.id,
    email: row.email,
    domain: row.domain,
    attributes: row.attributes,
    tags: row.tags,
    status: row.status,
    consents: row.consents,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const notFound = () =>
  new RelaisError('NOT_FOUND', 'No contact with this id.', { details: { parameter: 'contactId' } });

/** Normalizes or throws a 400 that points at the field. */
export function requireEmail(input: string, pointer = '/email'): { email: string; domain: string } {
  const result = normalizeEmail(input);
  if (!result.ok) {
    throw new RelaisError('VALIDATION_FAILED', `invalid email address: ${result.reason}`, {
      details: { pointer },
    });
  }
  return { email: result.email, domain: result.domain };
}

export interface UpsertContact {
  email: string;
  attributes?: Record<string, unknown> | undefined;
  tags?: string[] | undefined;
  status?: 'active' | 'unsubscribed' | undefined;
}

/** Creates the contact or merges into the one with the same normalized address. */
export async function upsertContact(
  db: Queryable,
  tenantId: TenantId,
  input: UpsertContact,
): Promise<{ contact: Contact; created: boolean }> {
  const { email, domain } = requireEmail(input.email);
  const { rows } = await db.query<ContactRow & { inserted: boolean }>(
    `INSERT INTO contacts (tenant_id, email, domain, attributes, tags, status)
     VALUES ($1, $2, $3, $4::jsonb, $5::text[], coalesce($6, 'active'))
     ON CONFLICT (tenant_id, email) DO UPDATE SET
       attributes = contacts.attributes || EXCLUDED.attributes,
       tags = ARRAY(SELECT DISTINCT unnest(contacts.tags || EXCLUDED.tags) ORDER BY 1),
       status = coalesce($6, contacts.status),
       updated_at = now()
     RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
    [
      tenantId,
      email,
      domain,
      JSON.stringify(input.attributes ?? {}),
      input.tags ?? [],
      input.status ?? null,
    ],
  );
  const row = rows[0]!;
  return { contact: toContact(row), created: row.inserted };
}

export async function getContact(
  db: Queryable,
  tenantId: TenantId,
  contactId: string,
): Promise<Contact> {
  const { rows } = await db.query<ContactRow>(
    `SELECT ${COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2`,
    [tenantId, contactId],
  );
  if (!rows[0]) throw notFound();
  return toContact(rows[0]);
}

export async function findContactByEmail(
  db: Queryable,
  tenantId: TenantId,
  email: string,
): Promise<Contact | undefined> {
  const normalized = normalizeEmail(email);
  if (!normalized.ok) return undefined;
  const { rows } = await db.query<ContactRow>(
    `SELECT ${COLUMNS} FROM contacts WHERE tenant_id = $1 AND email = $2`,
    [tenantId, normalized.email],
  );
  return rows[0] ? toContact(rows[0]) : undefined;
}

export interface ContactPatch {
  email?: string | undefined;
  /** Merged; a key set to null is removed. */
  attributes?: Record<string, unknown> | undefined;
  tags?: string[] | undefined;
  addTags?: string[] | undefined;
  removeTags?: string[] | undefined;
  status?: 'active' | 'unsubscribed' | undefined;
}

export async function updateContact(
  db: Queryable,
  tenantId: TenantId,
  contactId: string,
  patch: ContactPatch,
): Promise<Contact> {
  const address = patch.email === undefined ? undefined : requireEmail(patch.email);
  const attributes = patch.attributes ?? {};
  const removed = Object.keys(attributes).filter((key) => attributes[key] === null);
  const merged = Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null));
  const { rows } = await db.query<ContactRow>(
    `UPDATE contacts SET
       email = coalesce($3, email),
       domain = coalesce($4, domain),
       attributes = (attributes || $5::jsonb) - $6::text[],
       tags = ARRAY(
         SELECT DISTINCT t FROM unnest(coalesce($7::text[], tags) || $8::text[]) AS t
         WHERE NOT (t = ANY ($9::text[])) ORDER BY 1),
       status = coalesce($10, status),
       updated_at = now()
     WHERE tenant_id = $1 AND id = $2
     RETURNING ${COLUMNS}`,
    [
      tenantId,
      contactId,
      address?.email ?? null,
      address?.domain ?? null,
      JSON.stringify(merged),
      removed,
      patch.tags ?? null,
      patch.addTags ?? [],
      patch.removeTags ?? [],
      patch.status ?? null,
    ],
  );
  if (!rows[0]) throw notFound();
  return toContact(rows[0]);
}

/**
 * Erasure: the contact and its consent ledger go; its message rows keep only ids, the
 * address is blanked, so campaign counts stay right without keeping personal data. Its
 * engagement rows and conversions keep their figures, not the person.
 */
export async function deleteContact(
  store: Store,
  tenantId: TenantId,
  contactId: string,
): Promise<void> {
  await store.transaction(async (tx) => {
    const { rowCount } = await tx.query(`DELETE FROM contacts WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      contactId,
    ]);
    if (rowCount === 0) throw notFound();
    await tx.query(`DELETE FROM consent_events WHERE tenant_id = $1 AND contact_id = $2`, [
      tenantId,
      contactId,
    ]);
    // Opens and clicks keep their verdicts but lose the user agent (a device fingerprint);
    // conversions keep their message and amount but no longer name the contact.
    await tx.query(
      `UPDATE engagement_events SET user_agent = NULL
       WHERE message_id IN (SELECT id FROM messages WHERE tenant_id = $1 AND contact_id = $2)`,
      [tenantId, contactId],
    );
    await tx.query(
      `UPDATE conversions SET contact_id = NULL WHERE tenant_id = $1 AND contact_id = $2`,
      [tenantId, contactId],
    );
    await tx.query(
      `UPDATE messages SET email = '', updated_at = now() WHERE tenant_id = $1 AND contact_id = $2`,
      [tenantId, contactId],
    );
  });
}

export interface ContactFilter {
  limit: number;
  after?: string | undefined;
  tag?: string | undefined;
  domain?: string | undefined;
  status?: 'active' | 'unsubscribed' | undefined;
}

/** Keyset pagination by id: stable under concurrent inserts, no OFFSET scans. */
export async function listContacts(
  db: Queryable,
  tenantId: TenantId,
  filter: ContactFilter,
): Promise<{ items: Contact[]; next: string | null }> {
  const { rows } = await db.query<ContactRow>(
    `SELECT ${COLUMNS} FROM contacts
     WHERE tenant_id = $1
       AND ($2::uuid IS NULL OR id > $2::uuid)
       AND ($3::text IS NULL OR tags @> ARRAY[$3::text])
       AND ($4::text IS NULL OR domain = $4)
       AND ($5::text IS NULL OR status = $5)
     ORDER BY id LIMIT $6`,
    [
      tenantId,
      filter.after ?? null,
      filter.tag ?? null,
      filter.domain?.toLowerCase() ?? null,
      filter.status ?? null,
      filter.limit + 1,
    ],
  );
  const items = rows.slice(0, filter.limit).map(toContact);
  const next = rows.length > filter.limit ? (items.at(-1)?.id ?? null) : null;
  return { items, next };
}
