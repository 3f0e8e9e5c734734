import type { z } from 'zod';
import { kernelConfigSchema, withModeCheck, type KernelConfig } from '@relais/config';
import { campaignConfigSchema, startCampaign } from '@relais/campaign';
import type { Platform } from '@relais/platform';
import { segmentationSettingsSchema, startSegmentation } from '@relais/segmentation';

/**
 * The settings of every service that runs inside `relais up`, each under its own key
 * (env `CAMPAIGN__SCHEDULER_INTERVAL`, `SEGMENTATION__BATCH_SIZE`…).
 */
export function platformConfigSchema() {
  return withModeCheck(
    kernelConfigSchema({ httpPort: 8080 }).extend({
      campaign: campaignConfigSchema.prefault({}),
      segmentation: segmentationSettingsSchema.prefault({}),
    }),
  );
}

export type PlatformConfig = z.output<ReturnType<typeof platformConfigSchema>>;

/** Starts every service that has landed on one platform: the embedded (or all-in-one) shape. */
export async function startServices(platform: Platform, config: PlatformConfig): Promise<void> {
  const kernel: KernelConfig = config;
  startCampaign(platform, config.campaign);
  await startSegmentation(platform, { ...kernel, ...config.segmentation });
}
