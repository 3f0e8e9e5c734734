import type { Envelope } from '@relais/domain';
import type { SegmentationPorts } from '../ports';
import { sendCampaign } from './send-campaign';

/**
 * Continues publishing from the dispatch cursor. A campaign paused before its recipients
 * were resolved is resolved now, so a resume never depends on the launch having finished.
 */
export async function onCampaignResumed(
  envelope: Envelope<'campaign.resumed'>,
  ports: SegmentationPorts,
): Promise<void> {
  await sendCampaign(envelope.tenantId, envelope.data.campaignId, ports);
}
