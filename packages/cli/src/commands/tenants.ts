import { parseArgs } from 'node:util';
import { kernelConfigSchema, loadConfig } from '@relais/config';
import { createTenant } from '@relais/campaign';
import { migrateModel } from '@relais/model';
import { migrateKernel, openStore } from '@relais/store';
import { createLogger } from '@relais/telemetry';

const USAGE = `usage: relais tenants create --name <name> [--json]

Creates a tenant and its first API key in the configured store (DATABASE_URL, or the
embedded data folder DATA_DIR). The key is printed once and stored only as a hash.
`;

/** `relais tenants create`: the way a new company gets its first API key. */
export async function tenants(argv: readonly string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: false,
    strict: false,
  });
  if (sub !== 'create' || typeof values.name !== 'string' || values.name.trim() === '') {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const config = loadConfig(kernelConfigSchema({ httpPort: 0 }), { argv: [] });
  const logger = createLogger({ service: 'relais-cli', level: 'warn' });
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    logger,
  });
  try {
    await migrateKernel(store, logger);
    await migrateModel(store, logger);
    const { tenant, apiKey } = await createTenant(store, values.name.trim());
    if (values.json) {
      process.stdout.write(
        JSON.stringify({ tenantId: tenant.id, name: tenant.name, apiKey: apiKey.key }) + '\n',
      );
    } else {
      process.stdout.write(
        `tenant ${tenant.name} created: ${tenant.id}\nAPI key (shown once, keep it safe):\n  ${apiKey.key}\n`,
      );
    }
  } finally {
    await store.close();
  }
}
