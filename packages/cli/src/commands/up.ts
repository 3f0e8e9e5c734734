import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import { startServicesWithSimulator } from './embedded-simulator';
import { platformConfigSchema, prepareServices, startServices } from './services';

/**
 * `relais up`: every service in one process; embedded unless AMQP_URL and DATABASE_URL are
 * set. Embedded mode also runs the provider simulator and delivers to it only; the
 * simulator's later bounces and complaints go to the bounce processor's inbound listener,
 * which embedded mode runs on 127.0.0.1 at a free port.
 */
export async function up(argv: readonly string[]): Promise<void> {
  const schema = platformConfigSchema();
  await runMain(
    async () => {
      const config = loadConfig(schema, { argv });
      if (checkConfigRequested(argv)) {
        printEffectiveConfig(config);
        process.exit(0);
      }
      const prepared = prepareServices(config);
      const platform = await startPlatform('relais', config);
      if (platform.mode === 'embedded') {
        await startServicesWithSimulator(platform, config, prepared);
      } else {
        await startServices(platform, config, prepared);
      }
      return platform.runtime;
    },
    { service: 'relais' },
  );
}
