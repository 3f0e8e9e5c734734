import type { Envelope } from '@relais/domain';
import type { SegmentationPorts } from '../ports';

/**
 * Nothing to do, but handled so the message is acked rather than dead-lettered (the queue
 * receives every `campaign.*`). The command is the campaign service's: a paused slice is
 * held by the relay, so the dispatch loop keeps publishing the rest of the campaign.
 */
export async function onCampaignPause(
  _envelope: Envelope<'campaign.pause'>,
  _ports: SegmentationPorts,
): Promise<void> {}
