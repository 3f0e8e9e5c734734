import {
  checkConfigRequested,
  kernelConfigSchema,
  loadConfig,
  printEffectiveConfig,
  withModeCheck,
} from '@relais/config';
import { runMain } from '@relais/runtime';
import { startPlatform } from '@relais/platform';

/** `relais up`: every service in one process; embedded unless AMQP_URL and DATABASE_URL are set. */
export async function up(argv: readonly string[]): Promise<void> {
  const schema = withModeCheck(kernelConfigSchema({ httpPort: 8080 }));
  await runMain(
    async () => {
      const config = loadConfig(schema, { argv });
      if (checkConfigRequested(argv)) {
        printEffectiveConfig(config);
        process.exit(0);
      }
      const platform = await startPlatform('relais', config);
      return platform.runtime;
    },
    { service: 'relais' },
  );
}
