import type { Envelope } from '@relais/domain';
import type { SegmentationPorts } from '../ports';
import { sendCampaign } from './send-campaign';

/**
 * Resolves the campaign's recipients into message rows and publishes them to the
 * dispatcher. The campaign row, not the event, is the truth: its tenant, status, segment
 * and variants are read under lock, so a stale or foreign launch does nothing.
 */
export async function onCampaignLaunched(
  envelope: Envelope<'campaign.launched'>,
  ports: SegmentationPorts,
): Promise<void> {
  await sendCampaign(envelope.tenantId, envelope.data.campaignId, ports);
}
