import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import { startEmbeddedSimulator } from './embedded-simulator';
import { platformConfigSchema, prepareServices, startServices } from './services';

/**
 * `relais up`: every service in one process; embedded unless AMQP_URL and DATABASE_URL are
 * set. Embedded mode also runs the provider simulator and delivers to it only.
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
      const embedded =
        platform.mode === 'embedded' ? await startEmbeddedSimulator(platform) : undefined;
      const services = await startServices(platform, config, {
        ...prepared,
        relayRoutes: embedded?.simulator.routes() ?? [],
      });
      embedded?.publish(services.dispatcher?.dkimPublicKeys ?? []);
      return platform.runtime;
    },
    { service: 'relais' },
  );
}
