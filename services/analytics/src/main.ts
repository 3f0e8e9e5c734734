/**
 * The analytics process: owns the delivery outcome of every message (state, attempts,
 * reason), the per-campaign counters, campaign completion and the stats API. Config is
 * validated before any connection is opened.
 */
import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import { analyticsConfigSchema, startAnalytics } from './index';

await runMain(
  async () => {
    const config = loadConfig(analyticsConfigSchema);
    if (checkConfigRequested()) {
      printEffectiveConfig(config);
      process.exit(0);
    }
    const platform = await startPlatform('analytics', config);
    await startAnalytics(platform, config);
    return platform.runtime;
  },
  { service: 'analytics' },
);
