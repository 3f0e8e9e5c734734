import type { Envelope } from '@relais/domain';
import type { SegmentationPorts } from '../ports';
import { sendCampaign } from './send-campaign';

/**
 * Continues publishing from the dispatch cursor. A campaign paused before its recipients
 * were resolved is resolved now, so a resume never depends on the launch having finished.
 * A slice's resume (`scope` set) changes nothing here: the dispatch loop never stopped for
 * it, only the relay held that slice's messages.
 */
export async function onCampaignResumed(
  envelope: Envelope<'campaign.resumed'>,
  ports: SegmentationPorts,
): Promise<void> {
  if (envelope.data.scope !== undefined) return;
  await sendCampaign(envelope.tenantId, envelope.data.campaignId, ports);
}
