import { z } from 'zod';
import { duration } from '@relais/config';

/** The campaign service's own settings (env: CAMPAIGN__…). */
export const campaignConfigSchema = z.object({
  /** How often scheduled campaigns are checked for being due. */
  schedulerInterval: duration().default(5_000),
});

export type CampaignConfig = z.output<typeof campaignConfigSchema>;
