import type { Envelope } from '@relais/domain';
import type { SegmentationPorts } from '../ports';

/**
 * Nothing to do, but handled so the message is acked rather than dead-lettered (the queue
 * receives every `campaign.*`). Completion is decided elsewhere (delivery outcomes, or
 * this service for a campaign with no recipient); nothing is left here to release.
 */
export async function onCampaignCompleted(
  _envelope: Envelope<'campaign.completed'>,
  _ports: SegmentationPorts,
): Promise<void> {}
