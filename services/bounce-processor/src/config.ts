import { kernelConfigSchema, withModeCheck } from '@relais/config';
import { z } from 'zod';

/**
 * The service's own settings, for a process that hosts several services and nests them
 * under a key of its own (`relais up`).
 */
export const bounceSettingsSchema = z.object({
  /**
   * Bounce events handled at once. Each is one short transaction; two bounces of the same
   * address only meet on the suppression's primary key, which ON CONFLICT settles.
   */
  prefetch: z.number().int().min(1).max(64).default(8),
});

/** The settings `startBounceProcessor` takes. */
export type BounceSettings = z.output<typeof bounceSettingsSchema>;

/** The configuration of a bounce processor on its own: the kernel fields and its settings. */
export const bounceConfigSchema = withModeCheck(
  kernelConfigSchema({ httpPort: 8084 }).extend(bounceSettingsSchema.shape),
);

/** The parsed configuration of a bounce-processor process. */
export type BounceConfig = z.output<typeof bounceConfigSchema>;
