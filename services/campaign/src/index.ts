import type { Platform } from '@relais/platform';
import { launchDueCampaigns } from './adapters/campaign-actions';
import { campaignApi } from './api';
import type { CampaignConfig } from './config';
import { onCampaignPause } from './handlers/on-campaign-pause';

export { campaignConfigSchema, type CampaignConfig } from './config';
export { apiRoutes, campaignApi, API_INFO, API_VERSION } from './api';
export { openApiDocument } from './openapi-document';
export { createTenant, createApiKey } from './adapters/tenants';
export { launchDueCampaigns } from './adapters/campaign-actions';
export { generateContactsCsv, importContacts, type ImportReport } from './import';

/** The queue (under the platform namespace) of the commands this service takes. */
export function campaignCommandsQueue(namespace: string): string {
  return `${namespace}.campaign.commands`;
}

/**
 * The campaign service on a running platform: the `/v1` API on the platform's HTTP server,
 * the consumer of its commands (a circuit breaker's `campaign.pause`) and the loop that
 * launches scheduled campaigns when they are due.
 */
export async function startCampaign(
  platform: Platform,
  config: CampaignConfig & { namespace: string },
): Promise<void> {
  const { store, logger, runtime } = platform;
  runtime.app.use('/v1', campaignApi({ store, logger }));
  const subscription = await platform.bus.subscribe(
    campaignCommandsQueue(config.namespace),
    {
      'campaign.pause': (envelope, context) =>
        runtime.trackInFlight(onCampaignPause(envelope, { store, logger: context.logger })),
    },
    { prefetch: 16 },
  );
  runtime.onShutdown('campaign commands consumer', () => subscription.cancel(), 'intake');

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
