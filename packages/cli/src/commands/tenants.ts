import { parseArgs } from 'node:util';
import { kernelConfigSchema, loadConfig } from '@relais/config';
import { createTenant } from '@relais/campaign';
import { migrateModel } from '@relais/model';
import { migrateKernel, openStore } from '@relais/store';
import { createLogger } from '@relais/telemetry';

const USAGE = `usage: relais tenants create --name <name> [--json]
       relais tenants tracking --tenant <id> --policy <consent|unless_withdrawn|off>

create: creates a tenant and its first API key in the configured store (DATABASE_URL, or
the embedded data folder DATA_DIR). The key is printed once and stored only as a hash.

tracking: whose campaign mail carries open and click tracking. consent (the default):
contacts who granted the "tracking" purpose; unless_withdrawn: everyone but those who
withdrew it; off: nobody.
`;

const TRACKING_POLICIES = ['consent', 'unless_withdrawn', 'off'];

/** `relais tenants create`: the way a new company gets its first API key. */
export async function tenants(argv: readonly string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      json: { type: 'boolean', default: false },
      tenant: { type: 'string' },
      policy: { type: 'string' },
    },
    allowPositionals: false,
    strict: false,
  });
  const creating = sub === 'create' && typeof values.name === 'string' && values.name.trim() !== '';
  const tracking =
    sub === 'tracking' &&
    typeof values.tenant === 'string' &&
    typeof values.policy === 'string' &&
    TRACKING_POLICIES.includes(values.policy);
  if (!creating && !tracking) {
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
    if (tracking) {
      const { rowCount } = await store.query(
        `UPDATE tenants SET tracking_policy = $2 WHERE id::text = $1`,
        [values.tenant, values.policy],
      );
      if (rowCount === 0) {
        process.stderr.write(`no tenant ${String(values.tenant)}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`tenant ${String(values.tenant)}: tracking ${String(values.policy)}\n`);
      return;
    }
    const name = String(values.name).trim();
    const { tenant, apiKey } = await createTenant(store, name);
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
