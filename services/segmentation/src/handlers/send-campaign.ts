import { RelaisError, type CampaignId, type TenantId } from '@relais/domain';
import type { SegmentationPorts } from '../ports';
import type { SegmentationLogEvent } from '../log-events';

/**
 * What a launch and a resume both do: make sure the recipients exist, then queue them batch
 * by batch from the cursor. Every step re-reads the campaign under its row lock, so a
 * redelivered, duplicated or concurrent copy of the message adds nothing twice.
 */
export async function sendCampaign(
  tenantId: TenantId,
  campaignId: CampaignId,
  ports: SegmentationPorts,
): Promise<void> {
  const fields = { relais: { tenant_id: tenantId, campaign_id: campaignId } };
  const action = (code: SegmentationLogEvent) => ({ ...fields, 'event.action': code });

  const resolved = await ports.recipients.resolveRecipients(tenantId, campaignId, ports.now());
  switch (resolved.kind) {
    case 'not-found':
      // Also what a tenant sees for another tenant's campaign: nothing to reveal or do.
      ports.logger.warn(action('segmentation.campaign_skipped'), 'campaign not found for tenant');
      return;
    case 'not-sendable':
      ports.logger.info(
        {
          ...action('segmentation.campaign_skipped'),
          relais: { ...fields.relais, status: resolved.status },
        },
        'campaign not sendable',
      );
      return;
    case 'resolved':
      ports.logger.info(
        {
          ...action('segmentation.recipients_resolved'),
          relais: { ...fields.relais, recipients: resolved.recipients },
        },
        'campaign recipients resolved',
      );
      break;
    case 'already-resolved':
      break;
    default:
      return resolved satisfies never;
  }
  await dispatchPending(tenantId, campaignId, ports);
}

/** Queues pending recipients in batches until none is left or the campaign stops sending. */
async function dispatchPending(
  tenantId: TenantId,
  campaignId: CampaignId,
  ports: SegmentationPorts,
): Promise<void> {
  const fields = { relais: { tenant_id: tenantId, campaign_id: campaignId } };
  for (;;) {
    if (ports.stopping()) {
      // Retryable: the redelivery (here or on another replica) continues from the cursor.
      throw new RelaisError('SHUTTING_DOWN', 'dispatch interrupted by shutdown between batches');
    }
    const outcome = await ports.recipients.dispatchNextBatch(tenantId, campaignId, ports.batchSize);
    switch (outcome.kind) {
      case 'dispatched':
        continue;
      case 'stopped':
        ports.logger.info(
          {
            'event.action': 'segmentation.dispatch_stopped' satisfies SegmentationLogEvent,
            relais: { ...fields.relais, status: outcome.status },
          },
          'campaign dispatch stopped',
        );
        return;
      case 'exhausted':
        ports.logger.info(
          {
            ...fields,
            'event.action': (outcome.completed
              ? 'segmentation.campaign_completed'
              : 'segmentation.dispatch_finished') satisfies SegmentationLogEvent,
          },
          outcome.completed
            ? 'campaign completed without recipients'
            : 'campaign dispatch finished',
        );
        return;
      case 'not-found':
        return;
      default:
        return outcome satisfies never;
    }
  }
}
