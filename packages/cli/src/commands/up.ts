import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import { platformConfigSchema, startServices } from './services';

/** `relais up`: every service in one process; embedded unless AMQP_URL and DATABASE_URL are set. */
export async function up(argv: readonly string[]): Promise<void> {
  const schema = platformConfigSchema();
  await runMain(
    async () => {
      const config = loadConfig(schema, { argv });
      if (checkConfigRequested(argv)) {
        printEffectiveConfig(config);
        process.exit(0);
      }
      const platform = await startPlatform('relais', config);
      await startServices(platform, config);
      return platform.runtime;
    },
    { service: 'relais' },
  );
}
