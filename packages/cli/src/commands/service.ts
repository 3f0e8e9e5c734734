import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import {
  SERVICE_NAMES,
  isServiceName,
  platformConfigSchema,
  prepareServices,
  startServices,
} from './services';

/**
 * `relais service <name>`: one service per process, the distributed shape. It reads the
 * same variables as `relais up`, so one environment file serves both.
 */
export async function service(argv: readonly string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || !isServiceName(name)) {
    process.stderr.write(
      `relais service: expected one of ${SERVICE_NAMES.join(', ')}${name === undefined ? '' : `, got "${name}"`}\n`,
    );
    process.exit(2);
  }
  const schema = platformConfigSchema();
  await runMain(
    async () => {
      const config = loadConfig(schema, { argv: rest });
      if (checkConfigRequested(rest)) {
        printEffectiveConfig(config);
        process.exit(0);
      }
      const prepared = prepareServices(config, [name]);
      const platform = await startPlatform(name, config);
      await startServices(platform, config, prepared);
      return platform.runtime;
    },
    { service: name },
  );
}
