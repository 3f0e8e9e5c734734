import { RelaisError, type TenantId } from '@relais/domain';
import type { Queryable, Store } from '@relais/store';
import {
  assertEditable,
  checkVariants,
  type CampaignStatus,
  type VariantInput,
} from '../domain/lifecycle';
import { listPauses, type CampaignPause } from './pauses';

/** A campaign as the API shows it, with live counts of its recipients by state. */
export interface Campaign {
  id: string;
  name: string;
  status: CampaignStatus;
  statusReason: string | null;
  messageClass: 'marketing' | 'transactional';
  from: { email: string; name: string | null };
  replyTo: string | null;
  segmentId: string;
  variants: VariantInput[];
  scheduledAt: Date | null;
  launchedAt: Date | null;
  finishedAt: Date | null;
  recipientsResolvedAt: Date | null;
  counts: Record<string, number> & { total: number };
  /** Recipients per variant that were not excluded: what the A/B split actually gave. */
  variantCounts: Record<string, number>;
  /**
   * Pauses in force (a breaker's paused provider or pool, a user's pause), then recent
   * resumed ones. A campaign with only slices paused stays `sending`.
   */
  pauses: CampaignPause[];
  createdAt: Date;
  updatedAt: Date;
}

/** A campaign row as the adapters read it. */
export type Row = {
  id: string;
  name: string;
  status: CampaignStatus;
  status_reason: string | null;
  message_class: 'marketing' | 'transactional';
  from_email: string;
  from_name: string | null;
  reply_to: string | null;
  segment_id: string;
  scheduled_at: Date | null;
  launched_at: Date | null;
  finished_at: Date | null;
  recipients_resolved_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

/** The columns of `Row`. */
export const COLUMNS = `id, name, status, status_reason, message_class, from_email, from_name, reply_to,
  segment_id, scheduled_at, launched_at, finished_at, recipients_resolved_at, created_at, updated_at`;

/** Every state a recipient row can be in; all are reported, zero or not. */
export const MESSAGE_STATES = [
  'pending',
  'queued',
  'sent',
  'delivered',
  'deferred',
  'bounced',
  'failed',
  'expired',
  'suppressed',
  'cancelled',
] as const;

/** The refusal of an unknown (or another tenant's) campaign id. */
export const notFound = () =>
  new RelaisError('NOT_FOUND', 'No campaign with this id.', {
    details: { parameter: 'campaignId' },
  });

export interface CampaignInput {
  name: string;
  messageClass: 'marketing' | 'transactional';
  from: { email: string; name?: string | undefined };
  replyTo?: string | undefined;
  segmentId: string;
  variants: VariantInput[];
  scheduledAt?: Date | null | undefined;
}

async function assertReferences(
  tx: Queryable,
  tenantId: TenantId,
  input: CampaignInput,
): Promise<void> {
  const { rows: segment } = await tx.query(
    `SELECT 1 FROM segments WHERE tenant_id = $1 AND id = $2`,
    [tenantId, input.segmentId],
  );
  if (!segment[0]) {
    throw new RelaisError('VALIDATION_FAILED', 'No segment with this id in this tenant.', {
      details: { pointer: '/segmentId' },
    });
  }
  const ids = input.variants.map((v) => v.templateId);
  const { rows: found } = await tx.query<{ id: string }>(
    `SELECT id FROM templates WHERE tenant_id = $1 AND id = ANY ($2::uuid[])`,
    [tenantId, ids],
  );
  const known = new Set(found.map((row) => row.id));
  const missing = ids.findIndex((templateId) => !known.has(templateId));
  if (missing >= 0) {
    throw new RelaisError('VALIDATION_FAILED', 'No template with this id in this tenant.', {
      details: { pointer: `/variants/${missing}/templateId` },
    });
  }
}

async function writeVariants(
  tx: Queryable,
  tenantId: TenantId,
  campaignId: string,
  variants: VariantInput[],
) {
  await tx.query(`DELETE FROM campaign_variants WHERE campaign_id = $1`, [campaignId]);
  for (const [position, variant] of variants.entries()) {
    await tx.query(
      `INSERT INTO campaign_variants (campaign_id, tenant_id, name, template_id, weight, position)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [campaignId, tenantId, variant.name, variant.templateId, variant.weight, position],
    );
  }
}

export async function createCampaign(
  store: Store,
  tenantId: TenantId,
  input: CampaignInput,
): Promise<Campaign> {
  checkVariants(input.variants);
  const id = await store.transaction(async (tx) => {
    await assertReferences(tx, tenantId, input);
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO campaigns (id, tenant_id, name, message_class, from_email, from_name, reply_to, segment_id, scheduled_at)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [
        tenantId,
        input.name,
        input.messageClass,
        input.from.email,
        input.from.name ?? null,
        input.replyTo ?? null,
        input.segmentId,
        input.scheduledAt?.toISOString() ?? null,
      ],
    );
    const campaignId = rows[0]!.id;
    await writeVariants(tx, tenantId, campaignId, input.variants);
    return campaignId;
  });
  return getCampaign(store, tenantId, id);
}

export async function updateCampaign(
  store: Store,
  tenantId: TenantId,
  campaignId: string,
  input: CampaignInput,
): Promise<Campaign> {
  checkVariants(input.variants);
  await store.transaction(async (tx) => {
    const { rows } = await tx.query<{ status: CampaignStatus }>(
      `SELECT status FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, campaignId],
    );
    if (!rows[0]) throw notFound();
    assertEditable(rows[0].status);
    await assertReferences(tx, tenantId, input);
    await tx.query(
      `UPDATE campaigns SET name = $3, message_class = $4, from_email = $5, from_name = $6, reply_to = $7,
         segment_id = $8, scheduled_at = $9, updated_at = now()
       WHERE tenant_id = $1 AND id = $2`,
      [
        tenantId,
        campaignId,
        input.name,
        input.messageClass,
        input.from.email,
        input.from.name ?? null,
        input.replyTo ?? null,
        input.segmentId,
        input.scheduledAt?.toISOString() ?? null,
      ],
    );
    await writeVariants(tx, tenantId, campaignId, input.variants);
  });
  return getCampaign(store, tenantId, campaignId);
}

export async function getCampaign(
  db: Queryable,
  tenantId: TenantId,
  campaignId: string,
): Promise<Campaign> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM campaigns WHERE tenant_id = $1 AND id = $2`,
    [tenantId, campaignId],
  );
  if (!rows[0]) throw notFound();
  const [withVariants] = await hydrate(db, [rows[0]], true);
  return withVariants!;
}

export async function listCampaigns(
  db: Queryable,
  tenantId: TenantId,
  filter: { status?: CampaignStatus | undefined; limit: number },
): Promise<Campaign[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM campaigns WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
     ORDER BY created_at DESC, id LIMIT $3`,
    [tenantId, filter.status ?? null, filter.limit],
  );
  return hydrate(db, rows, false);
}

async function hydrate(db: Queryable, rows: Row[], withCounts: boolean): Promise<Campaign[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const { rows: variants } = await db.query<{
    campaign_id: string;
    name: string;
    template_id: string;
    weight: string;
  }>(
    `SELECT campaign_id, name, template_id, weight FROM campaign_variants
     WHERE campaign_id = ANY ($1::uuid[]) ORDER BY campaign_id, position`,
    [ids],
  );
  const pauses = await listPauses(db, ids);
  const counts = new Map<string, Record<string, number>>();
  const byVariant = new Map<string, Record<string, number>>();
  if (withCounts) {
    const { rows: split } = await db.query<{ campaign_id: string; variant: string; n: string }>(
      `SELECT campaign_id, variant, count(*) AS n FROM messages
       WHERE campaign_id = ANY ($1::uuid[]) AND state <> 'suppressed'
       GROUP BY campaign_id, variant`,
      [ids],
    );
    for (const row of split) {
      const entry = byVariant.get(row.campaign_id) ?? {};
      entry[row.variant] = Number(row.n);
      byVariant.set(row.campaign_id, entry);
    }
    const { rows: states } = await db.query<{ campaign_id: string; state: string; n: string }>(
      `SELECT campaign_id, state, count(*) AS n FROM messages WHERE campaign_id = ANY ($1::uuid[])
       GROUP BY campaign_id, state`,
      [ids],
    );
    for (const row of states) {
      const entry = counts.get(row.campaign_id) ?? {};
      entry[row.state] = Number(row.n);
      counts.set(row.campaign_id, entry);
    }
  }
  return rows.map((row) => {
    const byState = counts.get(row.id) ?? {};
    const stateCounts: Record<string, number> & { total: number } = { total: 0 };
    for (const state of MESSAGE_STATES) {
      stateCounts[state] = byState[state] ?? 0;
      stateCounts.total += stateCounts[state];
    }
    return {
      id: row.id,
      name: row.name,
      status: row.status,
      statusReason: row.status_reason,
      messageClass: row.message_class,
      from: { email: row.from_email, name: row.from_name },
      replyTo: row.reply_to,
      segmentId: row.segment_id,
      variants: variants
        .filter((v) => v.campaign_id === row.id)
        .map((v) => ({ name: v.name, templateId: v.template_id, weight: Number(v.weight) })),
      scheduledAt: row.scheduled_at,
      launchedAt: row.launched_at,
      finishedAt: row.finished_at,
      recipientsResolvedAt: row.recipients_resolved_at,
      counts: stateCounts,
      variantCounts: byVariant.get(row.id) ?? {},
      pauses: pauses.get(row.id) ?? [],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  });
}
