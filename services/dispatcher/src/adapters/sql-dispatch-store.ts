import type { TenantId } from '@relais/domain';
import type { Store } from '@relais/store';
import type { MessageClass } from '../domain/pool-routing';
import type { DispatchStore } from '../ports';

const LOAD_CAMPAIGN = `
SELECT id, tenant_id, name, status, message_class, from_email, from_name, reply_to
FROM campaigns
WHERE tenant_id = $1 AND id = $2`;

const LOAD_TEMPLATES = `
SELECT id, subject, html, text, updated_at
FROM templates
WHERE tenant_id = $1 AND id = ANY($2::uuid[])`;

// The primary key probe per id; tenant_id guards against a batch naming foreign messages.
const QUEUED_MESSAGES = `
SELECT id
FROM messages
WHERE id = ANY($2::uuid[]) AND tenant_id = $1 AND state = 'queued'`;

// The tenant's policy over the contact's current tracking consent (contacts.consents is the
// ledger's latest state per purpose). Compared as text like segmentation's consent check: a
// malformed entry reads as "not granted". Submitted messages have no contact: never tracked.
const TRACKED_MESSAGES = `
SELECT m.id
FROM messages m
JOIN tenants t ON t.id = m.tenant_id
JOIN contacts c ON c.id = m.contact_id AND c.tenant_id = m.tenant_id
WHERE m.id = ANY($2::uuid[]) AND m.tenant_id = $1
  AND CASE t.tracking_policy
        WHEN 'consent' THEN (c.consents -> 'tracking' ->> 'granted') IS NOT DISTINCT FROM 'true'
        WHEN 'unless_withdrawn' THEN (c.consents -> 'tracking' ->> 'granted') IS DISTINCT FROM 'false'
        ELSE false
      END`;

const SAVE_LINKS = `
INSERT INTO campaign_links (campaign_id, link_key, tenant_id, url)
SELECT $2::uuid, link.key, $1::uuid, link.url
FROM unnest($3::text[], $4::text[]) AS link(key, url)
ON CONFLICT (campaign_id, link_key) DO NOTHING`;

// Only from `queued`: a row a relay or analytics already moved on is left alone.
const MARK = `
UPDATE messages
SET state = $3, updated_at = now()
WHERE id = ANY($2::uuid[]) AND tenant_id = $1 AND state = 'queued'`;

interface CampaignRow {
  id: string;
  tenant_id: TenantId;
  name: string;
  status: string;
  message_class: MessageClass;
  from_email: string;
  from_name: string | null;
  reply_to: string | null;
}

interface TemplateRow {
  id: string;
  subject: string;
  html: string | null;
  text: string | null;
  updated_at: Date;
}

/** The dispatcher's reads and writes as SQL, the same on PostgreSQL and PGlite. */
export function createSqlDispatchStore(store: Store): DispatchStore {
  return {
    async loadCampaign(tenantId, campaignId) {
      const { rows } = await store.query<CampaignRow>(LOAD_CAMPAIGN, [tenantId, campaignId]);
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        id: row.id,
        tenantId: row.tenant_id,
        name: row.name,
        status: row.status,
        messageClass: row.message_class,
        fromEmail: row.from_email,
        fromName: row.from_name,
        replyTo: row.reply_to,
      };
    },
    async loadTemplates(tenantId, ids) {
      if (ids.length === 0) return [];
      const { rows } = await store.query<TemplateRow>(LOAD_TEMPLATES, [tenantId, ids]);
      return rows.map((row) => ({
        id: row.id,
        subject: row.subject,
        html: row.html ?? undefined,
        text: row.text ?? undefined,
        updatedAt: row.updated_at,
      }));
    },
    async queuedMessages(tenantId, messageIds) {
      const { rows } = await store.query<{ id: string }>(QUEUED_MESSAGES, [tenantId, messageIds]);
      return new Set(rows.map((row) => row.id));
    },
    async trackedMessages(tenantId, messageIds) {
      if (messageIds.length === 0) return new Set();
      const { rows } = await store.query<{ id: string }>(TRACKED_MESSAGES, [tenantId, messageIds]);
      return new Set(rows.map((row) => row.id));
    },
    async saveLinks(tenantId, campaignId, links) {
      if (links.length === 0) return;
      await store.query(SAVE_LINKS, [
        tenantId,
        campaignId,
        links.map((link) => link.key),
        links.map((link) => link.url),
      ]);
    },
    async markFailed(tenantId, failures) {
      if (failures.length === 0) return;
      await store.query(MARK, [tenantId, failures.map((failure) => failure.messageId), 'failed']);
    },
    async markCancelled(tenantId, messageIds) {
      if (messageIds.length === 0) return 0;
      const { rowCount } = await store.query(MARK, [tenantId, messageIds, 'cancelled']);
      return rowCount;
    },
  };
}
