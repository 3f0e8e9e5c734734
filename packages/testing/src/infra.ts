import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import pg from 'pg';

const run = promisify(execFile);

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export type InfraKind = 'rabbitmq' | 'postgres';

export interface InfraProbe {
  kind: InfraKind;
  url: string;
  available: boolean;
  /** Why it is unavailable, for the notice. */
  problem?: string;
}

/** RELAIS_REQUIRE_INFRA=1 (set by CI) turns a missing server into a failure, never a skip. */
export function infraRequired(): boolean {
  return process.env['RELAIS_REQUIRE_INFRA'] === '1';
}

export function amqpUrl(): string {
  return process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL;
}

export function databaseUrl(): string {
  return process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
}

/**
 * Checks whether a server answers. Integration suites call this at the top of the file and
 * run their cases only when it is available; when it is not, they print a loud notice, or
 * throw when RELAIS_REQUIRE_INFRA=1 so that CI fails instead of going silently green.
 */
export async function probe(kind: InfraKind): Promise<InfraProbe> {
  const url = kind === 'rabbitmq' ? amqpUrl() : databaseUrl();
  let problem: string | undefined;
  try {
    if (kind === 'rabbitmq') {
      const connection = await amqp.connect(url, { timeout: 3000 });
      await connection.close();
    } else {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      await client.connect();
      await client.end();
    }
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  const result: InfraProbe = { kind, url: redactUrl(url), available: problem === undefined };
  if (problem === undefined) return result;
  result.problem = problem;
  const notice = `${kind} at ${result.url} is unreachable (${problem})`;
  if (infraRequired()) {
    throw new Error(`${notice}; RELAIS_REQUIRE_INFRA=1 forbids skipping its integration tests`);
  }
  console.warn(
    `\n!!! SKIPPING ${kind.toUpperCase()} INTEGRATION TESTS: ${notice}. Start it, or set RELAIS_REQUIRE_INFRA=1 to fail instead.\n`,
  );
  return result;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}

/** A short random suffix for names a test owns (queues, schemas, vhosts). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export interface TestVhost {
  /** An AMQP URL on the test's own vhost. */
  url: string;
  vhost: string;
  /** Deletes the vhost and everything in it. */
  cleanup(): Promise<void>;
}

/**
 * Creates a RabbitMQ vhost that only this test uses (via rabbitmqctl on the local node), so
 * tests can declare the real topology names without colliding. Falls back to the URL's own
 * vhost when rabbitmqctl is not available (a remote broker): tests then rely on namespaces.
 */
export async function createTestVhost(prefix = 'relais_test'): Promise<TestVhost> {
  const vhost = uniqueName(prefix);
  const base = new URL(amqpUrl());
  try {
    await run('rabbitmqctl', ['-q', 'add_vhost', vhost], { timeout: 30_000 });
    await run(
      'rabbitmqctl',
      [
        '-q',
        'set_permissions',
        '-p',
        vhost,
        decodeURIComponent(base.username || 'guest'),
        '.*',
        '.*',
        '.*',
      ],
      {
        timeout: 30_000,
      },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.warn(
      `rabbitmqctl unavailable (${message}); using the default vhost with namespaced names`,
    );
    return { url: amqpUrl(), vhost: base.pathname.slice(1) || '/', cleanup: async () => {} };
  }
  base.pathname = `/${encodeURIComponent(vhost)}`;
  return {
    url: base.toString(),
    vhost,
    cleanup: async () => {
      await run('rabbitmqctl', ['-q', 'delete_vhost', vhost], { timeout: 30_000 }).catch(() => {});
    },
  };
}

export interface TestSchema {
  /** A DATABASE_URL whose connections use the test's own schema first. */
  url: string;
  schema: string;
  cleanup(): Promise<void>;
}

/** Creates a PostgreSQL schema only this test uses; `url` puts it first on the search_path. */
export async function createTestSchema(prefix = 'relais_test'): Promise<TestSchema> {
  const schema = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl());
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    schema,
    cleanup: async () => {
      const client = new pg.Client({ connectionString: databaseUrl() });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
