import { randomUUID } from 'node:crypto';
import { RelaisError, createEnvelope, type CampaignId, type TenantId } from '@relais/domain';
import { enqueueOutbox, type Queryable, type Store } from '@relais/store';

/**
 * Paused slices of a campaign (`campaign_pauses`, migration 0010): a circuit breaker's
 * pause of the campaign's mail to one mailbox provider or through one IP pool, or a user's
 * pause of the whole campaign. The relay holds a paused slice's messages until its resume.
 */

/** A slice: '' is "any" (both '' is the whole campaign). */
export interface SliceKey {
  provider: string;
  pool: string;
}

/** A pause as the campaign view shows it. */
export interface CampaignPause {
  id: string;
  /** Absent: every provider (or the whole campaign when `pool` is absent too). */
  provider?: string;
  pool?: string;
  source: 'breaker' | 'user';
  metric: string | null;
  reason: string;
  evidence: Record<string, unknown>;
  pausedAt: Date;
  resumedAt: Date | null;
  resumedBy: string | null;
}

type PauseRow = {
  id: string;
  campaign_id: string;
  scope_provider: string;
  scope_pool: string;
  source: 'breaker' | 'user';
  metric: string | null;
  reason: string;
  evidence: Record<string, unknown> | string;
  paused_at: Date;
  resumed_at: Date | null;
  resumed_by: string | null;
};

/** Resumed pauses shown besides those in force: the recent history, newest first. */
const HISTORY_LIMIT = 20;

function toPause(row: PauseRow): CampaignPause {
  return {
    id: row.id,
    ...(row.scope_provider === '' ? {} : { provider: row.scope_provider }),
    ...(row.scope_pool === '' ? {} : { pool: row.scope_pool }),
    source: row.source,
    metric: row.metric,
    reason: row.reason,
    evidence:
      typeof row.evidence === 'string'
        ? (JSON.parse(row.evidence) as Record<string, unknown>)
        : row.evidence,
    pausedAt: row.paused_at,
    resumedAt: row.resumed_at,
    resumedBy: row.resumed_by,
  };
}

/**
 * The pauses of these campaigns: every one in force, then the latest resumed ones (at most
 * HISTORY_LIMIT per campaign), newest first.
 */
export async function listPauses(
  db: Queryable,
  campaignIds: readonly string[],
): Promise<Map<string, CampaignPause[]>> {
  const byCampaign = new Map<string, CampaignPause[]>();
  if (campaignIds.length === 0) return byCampaign;
  const { rows } = await db.query<PauseRow>(
    `SELECT id, campaign_id, scope_provider, scope_pool, source, metric, reason, evidence,
       paused_at, resumed_at, resumed_by
     FROM (
       SELECT p.*, row_number() OVER (
         PARTITION BY campaign_id, resumed_at IS NULL ORDER BY paused_at DESC, id
       ) AS n
       FROM campaign_pauses p WHERE campaign_id = ANY ($1::uuid[])
     ) ranked
     WHERE resumed_at IS NULL OR n <= $2
     ORDER BY campaign_id, resumed_at IS NOT NULL, paused_at DESC, id`,
    [campaignIds, HISTORY_LIMIT],
  );
  for (const row of rows) {
    const list = byCampaign.get(row.campaign_id) ?? [];
    list.push(toPause(row));
    byCampaign.set(row.campaign_id, list);
  }
  return byCampaign;
}

/** What recording a breaker's pause did. */
export type BreakerPauseResult =
  /** Recorded and announced (`campaign.paused` with the scope, in the outbox). */
  | 'paused'
  /** The slice was already paused: a repeated command, nothing changed. */
  | 'already'
  /** The campaign is not sending any more (paused, completed, cancelled) or is unknown. */
  | 'not_sending';

/**
 * Records a circuit breaker's pause of a slice and announces it, in one transaction with
 * the campaign row locked (so a concurrent resume or cancel is ordered with it). The
 * partial unique index keeps one pause in force per slice: a repeated command is a no-op.
 */
export async function recordBreakerPause(
  store: Store,
  command: {
    tenantId: TenantId;
    campaignId: CampaignId;
    scope: { provider?: string | undefined; pool?: string | undefined };
    metric: string;
    reason: string;
    evidence: Record<string, unknown>;
  },
): Promise<BreakerPauseResult> {
  return store.transaction(async (tx) => {
    const { rows } = await tx.query<{ status: string }>(
      `SELECT status FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [command.tenantId, command.campaignId],
    );
    const status = rows[0]?.status;
    if (status !== 'sending' && status !== 'launched') return 'not_sending';
    const provider = command.scope.provider ?? '';
    const pool = command.scope.pool ?? '';
    const inserted = await tx.query(
      `INSERT INTO campaign_pauses
         (id, tenant_id, campaign_id, scope_provider, scope_pool, source, metric, reason, evidence)
       VALUES ($1, $2, $3, $4, $5, 'breaker', $6, $7, $8::jsonb)
       ON CONFLICT (tenant_id, campaign_id, scope_provider, scope_pool) WHERE resumed_at IS NULL
       DO NOTHING`,
      [
        randomUUID(),
        command.tenantId,
        command.campaignId,
        provider,
        pool,
        command.metric,
        command.reason,
        JSON.stringify(command.evidence),
      ],
    );
    if (inserted.rowCount === 0) return 'already';
    await enqueueOutbox(
      tx,
      createEnvelope({
        type: 'campaign.paused',
        tenantId: command.tenantId,
        data: {
          campaignId: command.campaignId,
          reason: command.reason,
          scope: {
            ...(provider === '' ? {} : { provider }),
            ...(pool === '' ? {} : { pool }),
          },
        },
      }),
    );
    return 'paused';
  });
}

/** Records a user's pause of the whole campaign, inside the caller's transaction. */
export async function recordUserPause(
  tx: Queryable,
  tenantId: TenantId,
  campaignId: string,
  reason: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO campaign_pauses (id, tenant_id, campaign_id, source, reason)
     VALUES ($1, $2, $3, 'user', $4)
     ON CONFLICT (tenant_id, campaign_id, scope_provider, scope_pool) WHERE resumed_at IS NULL
     DO NOTHING`,
    [randomUUID(), tenantId, campaignId, reason],
  );
}

/**
 * Resumes the pauses in force of a campaign, inside the caller's transaction (campaign row
 * locked): all of them, or only the slice given. Each resumed slice is announced with
 * `campaign.resumed` and its scope (the whole campaign's resume is announced by the
 * lifecycle). Returns the slices resumed.
 */
export async function resumeSlices(
  tx: Queryable,
  tenantId: TenantId,
  campaignId: string,
  options: { only?: SliceKey; resumedBy: string },
): Promise<SliceKey[]> {
  const { rows } = await tx.query<{ scope_provider: string; scope_pool: string }>(
    `UPDATE campaign_pauses SET resumed_at = now(), resumed_by = $3
     WHERE tenant_id = $1 AND campaign_id = $2 AND resumed_at IS NULL
       AND ($4::text IS NULL OR (scope_provider = $4 AND scope_pool = $5))
     RETURNING scope_provider, scope_pool`,
    [
      tenantId,
      campaignId,
      options.resumedBy,
      options.only?.provider ?? null,
      options.only?.pool ?? '',
    ],
  );
  const slices = rows.map((row) => ({ provider: row.scope_provider, pool: row.scope_pool }));
  for (const slice of slices) {
    if (slice.provider === '' && slice.pool === '') continue;
    await enqueueOutbox(
      tx,
      createEnvelope({
        type: 'campaign.resumed',
        tenantId,
        data: {
          campaignId,
          scope: {
            ...(slice.provider === '' ? {} : { provider: slice.provider }),
            ...(slice.pool === '' ? {} : { pool: slice.pool }),
          },
        },
      }),
    );
  }
  return slices;
}

/** The refusal of a slice resume that names no paused slice. */
export function noSuchPause(slice: SliceKey): RelaisError {
  return new RelaisError('NOT_FOUND', 'No pause in force for this slice of the campaign.', {
    details: { provider: slice.provider, pool: slice.pool },
  });
}
