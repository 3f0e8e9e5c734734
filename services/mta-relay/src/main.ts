/**
 * The mta-relay process: owns SMTP delivery for its IP pools. It consumes the pools'
 * outbound queues, keeps pooled connections per destination and publishes every outcome as
 * a `delivery.*` event. Config is validated before any connection is opened.
 */
import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import { relayConfigSchema, startRelay } from './index';

await runMain(
  async () => {
    const config = loadConfig(relayConfigSchema);
    if (checkConfigRequested()) {
      printEffectiveConfig(config);
      process.exit(0);
    }
    const platform = await startPlatform('mta-relay', config);
    await startRelay(platform, config);
    return platform.runtime;
  },
  { service: 'mta-relay' },
);
