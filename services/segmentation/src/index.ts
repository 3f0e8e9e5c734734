import type { Handler } from '@relais/bus';
import type { CampaignId, Envelope, MessageType, TenantId } from '@relais/domain';
import type { Platform } from '@relais/platform';
import type { Store } from '@relais/store';
import { createSqlRecipientStore } from './adapters/sql-recipient-store';
import { compileStoredSegment } from './adapters/segment-compiler';
import type { SegmentationConfig } from './config';
import { onCampaignCancelled } from './handlers/on-campaign-cancelled';
import { onCampaignCompleted } from './handlers/on-campaign-completed';
import { onCampaignLaunched } from './handlers/on-campaign-launched';
import { onCampaignPause } from './handlers/on-campaign-pause';
import { onCampaignPaused } from './handlers/on-campaign-paused';
import { onCampaignResumed } from './handlers/on-campaign-resumed';
import type { ResolveOutcome, SegmentationPorts } from './ports';

export {
  segmentationConfigSchema,
  segmentationSettingsSchema,
  type SegmentationConfig,
} from './config';
export { createSqlRecipientStore } from './adapters/sql-recipient-store';
export { compileStoredSegment } from './adapters/segment-compiler';
export {
  onCampaignCancelled,
  onCampaignCompleted,
  onCampaignLaunched,
  onCampaignPaused,
  onCampaignResumed,
};
export { variantThresholds, variantOfBucket, type VariantThreshold } from './domain/variants';
export { SEGMENTATION_LOG_EVENTS, type SegmentationLogEvent } from './log-events';
export type * from './ports';

/** The queue (under the platform namespace) that receives every `campaign.*` message. */
export function segmentationQueue(namespace: string): string {
  return `${namespace}.segmentation.campaign`;
}

/**
 * Writes the message rows of a launched campaign, once (what the launch handler does before
 * publishing batches); exported so a benchmark can time the resolution alone.
 */
export function resolveRecipients(
  store: Store,
  tenantId: TenantId,
  campaignId: CampaignId,
  now: Date,
): Promise<ResolveOutcome> {
  return createSqlRecipientStore(store, compileStoredSegment).resolveRecipients(
    tenantId,
    campaignId,
    now,
  );
}

/**
 * Subscribes the segmentation handlers on the platform's bus. Every `campaign.*` type has a
 * handler: one without would be dead-lettered. On shutdown the consumer stops taking work,
 * a running dispatch loop ends after its current batch (the message is retried and
 * continues from the cursor), and the drain phase waits for it.
 */
export async function startSegmentation(
  platform: Platform,
  config: SegmentationConfig,
): Promise<void> {
  const base: Omit<SegmentationPorts, 'logger'> = {
    recipients: createSqlRecipientStore(platform.store, compileStoredSegment),
    batchSize: config.batchSize,
    now: () => new Date(),
    stopping: () => platform.runtime.stopping,
  };
  const run =
    <T extends MessageType>(
      handler: (envelope: Envelope<T>, ports: SegmentationPorts) => Promise<void>,
    ): Handler<T> =>
    (envelope, { logger }) =>
      platform.runtime.trackInFlight(handler(envelope, { ...base, logger }));
  const subscription = await platform.bus.subscribe(
    segmentationQueue(config.namespace),
    {
      'campaign.launched': run(onCampaignLaunched),
      'campaign.resumed': run(onCampaignResumed),
      'campaign.paused': run(onCampaignPaused),
      'campaign.cancelled': run(onCampaignCancelled),
      'campaign.completed': run(onCampaignCompleted),
      'campaign.pause': run(onCampaignPause),
    },
    { prefetch: config.prefetch },
  );
  platform.runtime.onShutdown('segmentation consumer', () => subscription.cancel(), 'intake');
}
