/**
 * The dispatcher process: owns turning `dispatch.batch` messages into rendered, DKIM-signed
 * `outbound.send` messages routed to IP pools. Config (including DKIM keys) is validated
 * before any connection is opened.
 */
import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import { dispatcherConfigSchema, startDispatcher } from './index';

await runMain(
  async () => {
    const config = loadConfig(dispatcherConfigSchema);
    if (checkConfigRequested()) {
      printEffectiveConfig(config);
      process.exit(0);
    }
    const platform = await startPlatform('dispatcher', config);
    await startDispatcher(platform, config);
    return platform.runtime;
  },
  { service: 'dispatcher' },
);
