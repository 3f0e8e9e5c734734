import { kernelConfigSchema, withModeCheck } from '@relais/config';
import { z } from 'zod';

/**
 * The service's own settings, for a process that hosts several services and nests them
 * under a key of its own (`relais up`: `SEGMENTATION__BATCH_SIZE`).
 */
export const segmentationSettingsSchema = z.object({
  /**
   * Recipients per `dispatch.batch` message: hundreds keep bus traffic low while one batch
   * stays a small transaction; 1000 is the message schema's ceiling.
   */
  batchSize: z.number().int().min(1).max(1000).default(500),
  /**
   * Campaign messages handled at once. A launch holds its campaign's row lock only per
   * transaction, so launches of different campaigns proceed side by side.
   */
  prefetch: z.number().int().min(1).max(64).default(4),
});

/** The configuration of a segmentation process on its own: the kernel fields and its settings. */
export const segmentationConfigSchema = withModeCheck(
  kernelConfigSchema({ httpPort: 8081 }).extend(segmentationSettingsSchema.shape),
);

/** The parsed configuration `startSegmentation` takes. */
export type SegmentationConfig = z.output<typeof segmentationConfigSchema>;
