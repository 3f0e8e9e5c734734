import { randomUUID } from 'node:crypto';
import type { CampaignId, Envelope, TenantId } from '@relais/domain';
import { createEnvelope } from '@relais/domain';
import { openMigratedStore, storeDrivers, type Driver } from '@relais/model/testing';
import type { Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { createSqlRecipientStore } from '../src/adapters/sql-recipient-store';
import { compileStoredSegment } from '../src/adapters/segment-compiler';
import type { RecipientStore, SegmentationPorts } from '../src/ports';

export const logger = createLogger({ service: 'segmentation-test', level: 'silent' });

export type { Driver } from '@relais/model/testing';

/** Embedded PGlite always; the real PostgreSQL when it answers (CI requires it). */
export const drivers = await storeDrivers('relais_segmentation', logger);

/** A migrated store of the given driver. */
export const openMigrated = (driver: Driver) => openMigratedStore(driver, logger);

/** Handler ports over the real SQL adapter and segment compiler. */
export function portsFor(
  store: Store,
  options: { batchSize?: number; wrap?: (inner: RecipientStore) => RecipientStore } = {},
): SegmentationPorts {
  const inner = createSqlRecipientStore(store, compileStoredSegment);
  return {
    recipients: options.wrap ? options.wrap(inner) : inner,
    batchSize: options.batchSize ?? 500,
    now: () => new Date('2026-06-01T00:00:00Z'),
    stopping: () => false,
    logger,
  };
}

export async function seedTenant(store: Store): Promise<TenantId> {
  const id = randomUUID() as TenantId;
  await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 'tenant')`, [id]);
  return id;
}

/** A contact as a test describes it; unspecified consent means marketing consent granted. */
export interface ContactSeed {
  email: string;
  status?: 'active' | 'unsubscribed';
  consent?: boolean | 'absent';
  attributes?: Record<string, unknown>;
  tags?: string[];
}

export async function seedContacts(
  store: Store,
  tenantId: TenantId,
  contacts: readonly ContactSeed[],
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const contact of contacts) {
    const consents =
      contact.consent === 'absent'
        ? {}
        : { marketing: { granted: contact.consent ?? true, at: '2026-01-01T00:00:00Z' } };
    const { rows } = await store.query<{ id: string }>(
      `INSERT INTO contacts (tenant_id, email, domain, status, consents, attributes, tags)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::text[]) RETURNING id`,
      [
        tenantId,
        contact.email,
        contact.email.split('@')[1],
        contact.status ?? 'active',
        JSON.stringify(consents),
        JSON.stringify(contact.attributes ?? {}),
        contact.tags ?? [],
      ],
    );
    ids.set(contact.email, rows[0]!.id);
  }
  return ids;
}

/** `count` consenting contacts `<prefix>-<n>@<domain>` with attribute `n`, in one statement. */
export async function seedManyContacts(
  store: Store,
  tenantId: TenantId,
  count: number,
  prefix = 'bulk',
  domain = 'bulk.test',
): Promise<void> {
  await store.query(
    `INSERT INTO contacts (tenant_id, email, domain, consents, attributes, tags)
     SELECT $1, $2 || '-' || g || '@' || $3, $3,
            '{"marketing": {"granted": true}}', jsonb_build_object('n', g), '{}'
     FROM generate_series(1, $4::int) g`,
    [tenantId, prefix, domain, count],
  );
}

export async function suppress(
  store: Store,
  tenantId: TenantId,
  kind: 'address' | 'domain',
  value: string,
): Promise<void> {
  await store.query(
    `INSERT INTO suppressions (tenant_id, kind, value, reason) VALUES ($1, $2, $3, 'test')`,
    [tenantId, kind, value],
  );
}

export interface CampaignSeed {
  messageClass?: 'marketing' | 'transactional';
  rules?: unknown;
  variants?: ReadonlyArray<{ name: string; weight: number }>;
  status?: string;
}

/** A campaign in status `launched` (unless told) with its segment, templates and variants. */
export async function seedCampaign(
  store: Store,
  tenantId: TenantId,
  seed: CampaignSeed = {},
): Promise<{ campaignId: CampaignId; segmentId: string; templates: Map<string, string> }> {
  const segmentId = randomUUID();
  const campaignId = randomUUID() as CampaignId;
  await store.query(
    `INSERT INTO segments (id, tenant_id, name, rules) VALUES ($1, $2, 'segment', $3::jsonb)`,
    [segmentId, tenantId, JSON.stringify(seed.rules ?? { all: true })],
  );
  await store.query(
    `INSERT INTO campaigns (id, tenant_id, name, status, message_class, from_email, segment_id, launched_at)
     VALUES ($1, $2, 'campaign', $3, $4, 'news@sender.test', $5, now())`,
    [campaignId, tenantId, seed.status ?? 'launched', seed.messageClass ?? 'marketing', segmentId],
  );
  const templates = new Map<string, string>();
  const variants = seed.variants ?? [{ name: 'A', weight: 100 }];
  for (const [position, variant] of variants.entries()) {
    const templateId = randomUUID();
    templates.set(variant.name, templateId);
    await store.query(
      `INSERT INTO templates (id, tenant_id, name, subject, text) VALUES ($1, $2, $3, 'Hi', 'Hello')`,
      [templateId, tenantId, `template ${variant.name}`],
    );
    await store.query(
      `INSERT INTO campaign_variants (campaign_id, tenant_id, name, template_id, weight, position)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [campaignId, tenantId, variant.name, templateId, variant.weight, position],
    );
  }
  return { campaignId, segmentId, templates };
}

export function launchEnvelope(
  tenantId: TenantId,
  campaign: { campaignId: CampaignId; segmentId: string },
  messageClass: 'marketing' | 'transactional' = 'marketing',
): Envelope<'campaign.launched'> {
  return createEnvelope({
    type: 'campaign.launched',
    tenantId,
    data: { campaignId: campaign.campaignId, segmentId: campaign.segmentId, messageClass },
  });
}

export interface MessageRow {
  id: string;
  contact_id: string;
  email: string;
  variant: string;
  state: string;
  excluded_reason: string | null;
}

export async function messagesOf(store: Store, campaignId: CampaignId): Promise<MessageRow[]> {
  const { rows } = await store.query<MessageRow>(
    `SELECT id, contact_id, email, variant, state, excluded_reason
     FROM messages WHERE campaign_id = $1 ORDER BY contact_id`,
    [campaignId],
  );
  return rows;
}

export async function campaignRow(
  store: Store,
  campaignId: CampaignId,
): Promise<{
  status: string;
  recipients_resolved_at: Date | null;
  dispatch_batches: number;
  finished_at: Date | null;
}> {
  const { rows } = await store.query<{
    status: string;
    recipients_resolved_at: Date | null;
    dispatch_batches: number;
    finished_at: Date | null;
  }>(
    `SELECT status, recipients_resolved_at, dispatch_batches, finished_at FROM campaigns WHERE id = $1`,
    [campaignId],
  );
  return rows[0]!;
}

/** The envelopes this tenant's outbox holds, of one type, in batch order. */
export async function outboxOf<T extends 'dispatch.batch' | 'campaign.completed'>(
  store: Store,
  tenantId: TenantId,
  type: T,
): Promise<Array<Envelope<T>>> {
  const { rows } = await store.query<{ envelope: Envelope<T> }>(
    `SELECT envelope FROM outbox WHERE tenant_id = $1 AND type = $2 ORDER BY created_at`,
    [tenantId, type],
  );
  return rows.map((row) => row.envelope);
}
