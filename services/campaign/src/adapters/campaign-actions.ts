import { RelaisError, createEnvelope, type CampaignId, type TenantId } from '@relais/domain';
import { enqueueOutbox, type Queryable, type Store } from '@relais/store';
import { transition, type CampaignAction } from '../domain/lifecycle';
import { COLUMNS, getCampaign, notFound, type Campaign, type Row } from './campaigns';
import { noSuchPause, recordUserPause, resumeSlices, type SliceKey } from './pauses';

// What users and the scheduler do to a campaign's lifecycle: launch, pause, resume, cancel,
// each with its event through the outbox.

/**
 * Applies a user's action in one transaction: the row is locked (so segmentation, which
 * locks it per batch, sees the change before its next batch), the new status written,
 * pending recipients cancelled on cancel, and the event enqueued in the outbox.
 *
 * Resume is one call for everything: it resumes the paused slices (a breaker's provider or
 * pool) and, when the campaign itself is paused, the campaign. With `slice` it resumes that
 * slice only. A sending campaign with no slice paused cannot resume (STATE_CONFLICT).
 * Cancel closes the pauses in force: what the relay held is then sent like any message
 * already handed to the dispatcher.
 */
export async function applyAction(
  store: Store,
  tenantId: TenantId,
  campaignId: string,
  action: CampaignAction,
  options: {
    now: Date;
    reason?: string | undefined;
    slice?: SliceKey | undefined;
    actor?: string | undefined;
  },
): Promise<Campaign> {
  await store.transaction(async (tx) => {
    const { rows } = await tx.query<Row>(
      `SELECT ${COLUMNS} FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, campaignId],
    );
    const row = rows[0];
    if (!row) throw notFound();
    const resumedBy = options.actor ?? 'user';
    if (action === 'resume' && options.slice !== undefined) {
      const resumed = await resumeSlices(tx, tenantId, campaignId, {
        only: options.slice,
        resumedBy,
      });
      if (resumed.length === 0) throw noSuchPause(options.slice);
      return;
    }
    if (action === 'resume' || action === 'cancel') {
      const resumed = await resumeSlices(tx, tenantId, campaignId, {
        resumedBy: action === 'cancel' ? 'cancel' : resumedBy,
      });
      // Only slices were paused: the campaign never stopped sending.
      if (action === 'resume' && row.status !== 'paused' && resumed.length > 0) return;
    }
    const next = transition(row.status, action, {
      now: options.now,
      scheduledAt: row.scheduled_at,
      recipientsResolved: row.recipients_resolved_at !== null,
    });
    await tx.query(
      `UPDATE campaigns SET status = $3, status_reason = $4, updated_at = now(),
         launched_at = CASE WHEN $3 = 'launched' THEN coalesce(launched_at, now()) ELSE launched_at END,
         finished_at = CASE WHEN $3 = 'cancelled' THEN now() ELSE finished_at END
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, campaignId, next.status, options.reason ?? null],
    );
    if (next.status === 'cancelled') {
      await tx.query(
        `UPDATE messages SET state = 'cancelled', updated_at = now() WHERE campaign_id = $1 AND state = 'pending'`,
        [campaignId],
      );
    }
    if (next.status === 'paused') {
      await recordUserPause(tx, tenantId, campaignId, options.reason ?? 'paused by user');
    }
    if (next.event) await enqueueCampaignEvent(tx, tenantId, row, next.event, options.reason);
  });
  return getCampaign(store, tenantId, campaignId);
}

async function enqueueCampaignEvent(
  tx: Queryable,
  tenantId: TenantId,
  row: Row,
  type: 'campaign.launched' | 'campaign.paused' | 'campaign.resumed' | 'campaign.cancelled',
  reason: string | undefined,
): Promise<void> {
  const campaignId = row.id as CampaignId;
  switch (type) {
    case 'campaign.launched':
      await enqueueOutbox(
        tx,
        createEnvelope({
          type,
          tenantId,
          data: {
            campaignId,
            segmentId: row.segment_id,
            messageClass: row.message_class,
          },
        }),
      );
      return;
    case 'campaign.paused':
      await enqueueOutbox(
        tx,
        createEnvelope({
          type,
          tenantId,
          data: { campaignId, reason: reason ?? 'paused by user' },
        }),
      );
      return;
    case 'campaign.resumed':
      await enqueueOutbox(tx, createEnvelope({ type, tenantId, data: { campaignId } }));
      return;
    case 'campaign.cancelled':
      await enqueueOutbox(tx, createEnvelope({ type, tenantId, data: { campaignId, reason } }));
      return;
    default: {
      const unreachable: never = type;
      throw new RelaisError('INTERNAL', `unknown campaign event ${String(unreachable)}`);
    }
  }
}

/**
 * Launches scheduled campaigns that are due. SKIP LOCKED lets every replica run the same
 * loop: each due campaign is taken by exactly one of them.
 */
export async function launchDueCampaigns(store: Store, now: Date, limit = 50): Promise<number> {
  return store.transaction(async (tx) => {
    const { rows } = await tx.query<Row & { tenant_id: TenantId }>(
      `SELECT ${COLUMNS}, tenant_id FROM campaigns
       WHERE status = 'scheduled' AND scheduled_at <= $1
       ORDER BY scheduled_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now.toISOString(), limit],
    );
    for (const row of rows) {
      await tx.query(
        `UPDATE campaigns SET status = 'launched', launched_at = coalesce(launched_at, now()), updated_at = now()
         WHERE id = $1`,
        [row.id],
      );
      await enqueueCampaignEvent(tx, row.tenant_id, row, 'campaign.launched', undefined);
    }
    return rows.length;
  });
}
