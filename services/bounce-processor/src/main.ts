/**
 * The bounce-processor process: owns turning `delivery.bounced` events, and the DSNs and
 * complaint reports its inbound SMTP listener stores, into bounce records, address
 * suppressions and complaint unsubscribes. Config is validated before any connection is
 * opened.
 */
import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import { bounceConfigSchema, startBounceProcessor } from './index';

await runMain(
  async () => {
    const config = loadConfig(bounceConfigSchema);
    if (checkConfigRequested()) {
      printEffectiveConfig(config);
      process.exit(0);
    }
    const platform = await startPlatform('bounce-processor', config);
    await startBounceProcessor(platform, config);
    return platform.runtime;
  },
  { service: 'bounce-processor' },
);
