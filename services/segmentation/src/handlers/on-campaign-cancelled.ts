import type { Envelope } from '@relais/domain';
import type { SegmentationPorts } from '../ports';

/**
 * Nothing to do, but handled so the message is acked rather than dead-lettered (the queue
 * receives every `campaign.*`). The campaign API set the status to `cancelled` and
 * cancelled the pending messages in the transaction that published this; the dispatch loop
 * sees the status under the campaign lock before its next batch and stops.
 */
export async function onCampaignCancelled(
  _envelope: Envelope<'campaign.cancelled'>,
  _ports: SegmentationPorts,
): Promise<void> {}
