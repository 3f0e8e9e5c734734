import type { Envelope } from '@relais/domain';
import type { SegmentationPorts } from '../ports';

/**
 * Nothing to do, but handled so the message is acked rather than dead-lettered (the queue
 * receives every `campaign.*`). The campaign API set the status to `paused` in the
 * transaction that published this, and the dispatch loop re-reads that status under the
 * campaign lock before every batch: the loop stops by itself, and `campaign.resumed`
 * continues from the cursor.
 */
export async function onCampaignPaused(
  _envelope: Envelope<'campaign.paused'>,
  _ports: SegmentationPorts,
): Promise<void> {}
