/**
 * The dispatcher process: owns turning `dispatch.batch` messages into rendered, DKIM-signed
 * `outbound.send` messages routed to IP pools. Config (including DKIM keys) is validated
 * before any connection is opened.
 */
import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import { dispatcherConfigSchema, mailIdentityOf, startDispatcher } from './index';

await runMain(
  async () => {
    const config = loadConfig(dispatcherConfigSchema);
    if (checkConfigRequested()) {
      printEffectiveConfig(config);
      process.exit(0);
    }
    // Key files are read and parsed now, so a missing file or a wrong key type stops the
    // process before it opens a connection.
    const mail = mailIdentityOf(config);
    const platform = await startPlatform('dispatcher', config);
    await startDispatcher(platform, config, mail);
    return platform.runtime;
  },
  { service: 'dispatcher' },
);
