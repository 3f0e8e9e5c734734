import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RelaisError } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import type { Queryable, Store } from './port';

/** One versioned schema change of one owner (a service, or the kernel). */
export interface Migration {
  /** Positive integer; applied in ascending order, once. */
  version: number;
  name: string;
  /**
   * Statements run inside one transaction, so no `BEGIN`/`COMMIT` and nothing that refuses a
   * transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
   */
  sql: string;
}

export interface MigrateOptions {
  /** Whose migrations these are: versions are numbered per owner. */
  owner: string;
  migrations: readonly Migration[];
  logger?: Logger | undefined;
}

export interface MigrateResult {
  /** Versions this call applied; empty when another replica (or an earlier run) did. */
  applied: number[];
}

const ENSURE_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  owner text NOT NULL,
  version integer NOT NULL,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, version)
)`;

/**
 * Advisory locks are database-wide; keying on the schema lets test schemas (and tenants of
 * a shared server) migrate side by side while replicas of one deployment serialize.
 */
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('relais.migrate:' || current_schema()))`;

const APPLIED = `SELECT version, name, checksum FROM schema_migrations WHERE owner = $1 ORDER BY version`;

const RECORD = `INSERT INTO schema_migrations (owner, version, name, checksum) VALUES ($1, $2, $3, $4)`;

/**
 * Line endings are normalized first: a checkout with CRLF conversion must not look like an
 * edited migration.
 */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/**
 * Applies the owner's pending migrations, each in its own transaction. Every transaction
 * first takes the migration advisory lock and re-reads what is applied, so replicas that
 * start together serialize and the later ones find the work done. Refuses to run when an
 * applied migration's text changed: the database would no longer match the code.
 */
export async function migrate(store: Store, options: MigrateOptions): Promise<MigrateResult> {
  const { owner, logger } = options;
  const migrations = checkList(owner, options.migrations);
  const applied: number[] = [];
  for (;;) {
    const next = await store.transaction(async (tx) => {
      await tx.query(LOCK);
      await tx.exec(ENSURE_TABLE);
      const done = await appliedVersions(tx, owner, migrations, logger);
      const pending = migrations.find((m) => !done.has(m.version));
      if (!pending) return undefined;
      try {
        await tx.exec(pending.sql);
        await tx.query(RECORD, [
          owner,
          pending.version,
          pending.name,
          migrationChecksum(pending.sql),
        ]);
      } catch (error) {
        const sqlstate = error instanceof RelaisError ? error.details['sqlstate'] : undefined;
        throw new RelaisError(
          'STORE_MIGRATION_FAILED',
          `migration ${owner} ${pending.version}_${pending.name} failed: ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
            details: { owner, version: pending.version, name: pending.name, sqlstate },
          },
        );
      }
      return pending;
    });
    if (!next) break;
    applied.push(next.version);
    logger?.info(
      {
        'event.action': 'store.migration.applied',
        'relais.migration': { owner, version: next.version, name: next.name },
      },
      'migration applied',
    );
  }
  return { applied };
}

async function appliedVersions(
  tx: Queryable,
  owner: string,
  migrations: readonly Migration[],
  logger: Logger | undefined,
): Promise<Set<number>> {
  const { rows } = await tx.query<{ version: number; name: string; checksum: string }>(APPLIED, [
    owner,
  ]);
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const row of rows) {
    const known = byVersion.get(row.version);
    if (!known) {
      // A newer replica got here first during a rolling deploy; the old code can still run.
      logger?.warn(
        {
          'event.action': 'store.migration.unknown',
          'relais.migration': { owner, version: row.version, name: row.name },
        },
        'database has a migration this build does not know',
      );
      continue;
    }
    if (migrationChecksum(known.sql) !== row.checksum) {
      throw new RelaisError(
        'STORE_MIGRATION_FAILED',
        `migration ${owner} ${row.version}_${row.name} was edited after it was applied; add a new migration instead`,
        { details: { owner, version: row.version, name: row.name } },
      );
    }
  }
  return new Set(rows.map((row) => row.version));
}

function checkList(owner: string, migrations: readonly Migration[]): Migration[] {
  const seen = new Set<number>();
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= 0) {
      throw new RelaisError(
        'STORE_MIGRATION_FAILED',
        `migration version ${m.version} of ${owner} is not a positive integer`,
        {
          details: { owner, version: m.version },
        },
      );
    }
    if (seen.has(m.version)) {
      throw new RelaisError(
        'STORE_MIGRATION_FAILED',
        `migration version ${m.version} of ${owner} is listed twice`,
        {
          details: { owner, version: m.version },
        },
      );
    }
    seen.add(m.version);
  }
  return [...migrations].sort((a, b) => a.version - b.version);
}

const MIGRATION_FILE = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/;

/**
 * Reads `NNNN_name.sql` files from a folder. Any other `.sql` file is an error rather than
 * silently skipped: a misnamed migration would otherwise never run.
 */
export async function loadMigrations(dir: string | URL): Promise<Migration[]> {
  const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const files = (await readdir(path)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = MIGRATION_FILE.exec(file);
    if (!match?.[1] || !match[2]) {
      throw new RelaisError(
        'STORE_MIGRATION_FAILED',
        `migration file ${file} is not named NNNN_name.sql`,
        {
          details: { file },
        },
      );
    }
    migrations.push({
      version: Number(match[1]),
      name: match[2],
      sql: await readFile(join(path, file), 'utf8'),
    });
  }
  return migrations;
}

/** The kernel's own tables (outbox, inbox). */
export const KERNEL_MIGRATIONS_DIR = new URL('../migrations/kernel/', import.meta.url);

/** Applies the kernel migrations (owner `kernel`); every service runs this before its own. */
export async function migrateKernel(store: Store, logger?: Logger): Promise<MigrateResult> {
  return migrate(store, {
    owner: 'kernel',
    migrations: await loadMigrations(KERNEL_MIGRATIONS_DIR),
    logger,
  });
}
