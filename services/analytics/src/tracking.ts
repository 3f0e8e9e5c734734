import type { Platform } from '@relais/platform';
import { createSqlEngagementStore } from './adapters/sql-engagement-store';
import type { AnalyticsSettings } from './config';
import { trackingRoutes } from './handlers/tracking-routes';

/**
 * Serves the open pixel and the click redirect on the platform's HTTP app when a tracking
 * secret is known (its own, else the unsubscribe secret, as the dispatcher signs with).
 */
export function startTracking(platform: Platform, settings: AnalyticsSettings): void {
  const { tracking } = settings;
  const secret = tracking.secret ?? settings.unsubscribeSecret;
  if (secret === undefined) return;
  const previous =
    tracking.secret === undefined ? settings.unsubscribePreviousSecrets : tracking.previousSecrets;
  platform.runtime.app.use(
    trackingRoutes({
      store: createSqlEngagementStore(platform.store),
      secrets: [secret, ...previous],
      windows: {
        machineOpenMs: tracking.machineOpenWindow,
        machineClickMs: tracking.machineClickWindow,
      },
      linkLifetimeMs: tracking.linkLifetime,
      clickBurstMs: tracking.clickBurstWindow,
      trustedProxies: tracking.trustedProxies,
      logger: platform.logger,
    }),
  );
}
