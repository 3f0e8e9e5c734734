import type { Platform } from '@relais/platform';
import { launchDueCampaigns } from './adapters/campaigns';
import { campaignApi } from './api';
import type { CampaignConfig } from './config';

export { campaignConfigSchema, type CampaignConfig } from './config';
export { apiRoutes, campaignApi, API_INFO, API_VERSION } from './api';
export { openApiDocument } from './openapi-document';
export { createTenant, createApiKey } from './adapters/tenants';
export { launchDueCampaigns } from './adapters/campaigns';
export { generateContactsCsv, importContacts, type ImportReport } from './import';

/**
 * The campaign service on a running platform: the `/v1` API on the platform's HTTP server,
 * and the loop that launches scheduled campaigns when they are due.
 */
export function startCampaign(platform: Platform, config: CampaignConfig): void {
  const { store, logger, runtime } = platform;
  runtime.app.use('/v1', campaignApi({ store, logger }));

  let running: Promise<unknown> | undefined;
  const tick = () => {
    if (running || runtime.stopping) return;
    running = runtime
      .trackInFlight(launchDueCampaigns(store, new Date()))
      .then((launched) => {
        if (launched > 0) {
          logger.info(
            { 'event.action': 'campaign.scheduled.launched', 'relais.count': launched },
            'scheduled campaigns launched',
          );
        }
      })
      .catch((error: unknown) => {
        logger.warn(
          { 'event.action': 'campaign.scheduler.failed', err: error },
          'scheduler tick failed; retrying next tick',
        );
      })
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, config.schedulerInterval);
  timer.unref();
  runtime.onShutdown(
    'campaign scheduler',
    async () => {
      clearInterval(timer);
      await running;
    },
    'intake',
  );
}
