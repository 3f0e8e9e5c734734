import type { AnalyticsLogEvent } from '../log-events';
import type { AnalyticsPorts } from '../ports';

/**
 * One completion sweep: every sending campaign with nothing left in flight is completed,
 * and its `campaign.completed` leaves through the outbox in the same transaction.
 * Returns how many were completed.
 */
export async function completeCampaigns(
  ports: Pick<AnalyticsPorts, 'store' | 'logger'>,
): Promise<number> {
  const completed = await ports.store.completeFinishedCampaigns();
  for (const { tenantId, campaignId } of completed) {
    ports.logger.info(
      {
        'event.action': 'analytics.campaign_completed' satisfies AnalyticsLogEvent,
        relais: { tenant_id: tenantId, campaign_id: campaignId },
      },
      'campaign completed',
    );
  }
  return completed.length;
}
