import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTestSchema,
  createTestVhost,
  parseLogLine,
  probe,
  spawnTs,
  type ChildRun,
} from '@relais/testing';
import { testIdentity } from './identity';

const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const dataDirs: string[] = [];

afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function startUp(env: Record<string, string | undefined>, args: string[] = []): ChildRun {
  return spawnTs(entry, {
    args: ['up', ...args],
    // Unset the infrastructure URLs unless a case sets them: embedded is the default.
    env: {
      AMQP_URL: undefined,
      DATABASE_URL: undefined,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      ...env,
    },
    killAfterMs: 90_000,
  });
}

async function boundPort(run: ChildRun): Promise<number> {
  const line = await run.waitForLine(
    (l) => parseLogLine(l)?.['event'] !== undefined && l.includes('runtime.started'),
    60_000,
  );
  const record = parseLogLine(line) as { server: { port: number } };
  return record.server.port;
}

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'relais-up-'));
  dataDirs.push(dir);
  return dir;
}

describe('relais up (embedded)', () => {
  it('serves health, readiness and metrics, then drains and exits 0 on SIGTERM', async () => {
    const run = startUp({ DATA_DIR: freshDataDir() });
    const port = await boundPort(run);
    const base = `http://127.0.0.1:${port}`;

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { bus: 'ok', store: 'ok' } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('relais_bus_consumed_total');
    expect(metrics).toContain('process_resident_memory_bytes');

    const started = run.lines
      .map(parseLogLine)
      .find((r) => r?.['event.action'] === 'platform.started');
    expect(started).toMatchObject({ relais: { mode: 'embedded', store: 'pglite' } });

    run.signal('SIGTERM');
    const { code } = await run.exited;
    expect(code).toBe(0);
    expect(run.lines.some((l) => l.includes('runtime.shutdown.completed'))).toBe(true);
  });

  it('refuses distributed mode without a sending identity, before connecting', async () => {
    // Nothing listens on port 1: the refusal must come before any connection attempt.
    const run = startUp({
      AMQP_URL: 'amqp://127.0.0.1:1',
      DATABASE_URL: 'postgres://127.0.0.1:1/relais',
    });
    const { code, stderr } = await run.exited;
    expect(code).toBe(2);
    for (const variable of [
      'DISPATCHER__SENDING_DOMAIN',
      'DISPATCHER__BOUNCE_SECRET',
      'DISPATCHER__DKIM__RSA__PRIVATE_KEY',
      'DISPATCHER__DKIM__ED25519__PRIVATE_KEY',
    ]) {
      expect(stderr).toContain(variable);
    }
  });

  it('refuses to start on bad configuration, listing every problem, before connecting', async () => {
    const run = startUp({
      DATA_DIR: freshDataDir(),
      AMQP_URL: 'amqp://127.0.0.1:1',
      SHUTDOWN_TIMEOUT: 'soon',
      LOG_LEVEL: 'loud',
    });
    const { code, stderr } = await run.exited;
    expect(code).toBe(2);
    expect(stderr).toContain('DATABASE_URL');
    expect(stderr).toContain('SHUTDOWN_TIMEOUT');
    expect(stderr).toContain('LOG_LEVEL');
  });

  it('prints the effective configuration with secrets redacted for --check-config', async () => {
    const run = startUp(
      {
        DATA_DIR: freshDataDir(),
        AMQP_URL: 'amqp://relais:s3cret@127.0.0.1:5672',
        DATABASE_URL: 'postgres://relais:s3cret@127.0.0.1:5432/relais',
      },
      ['--check-config'],
    );
    const { code } = await run.exited;
    expect(code).toBe(0);
    const text = run.lines.join('\n');
    expect(text).toContain('127.0.0.1:5672');
    expect(text).not.toContain('s3cret');
  });
});

const rabbit = await probe('rabbitmq');
const postgres = await probe('postgres');

describe.runIf(rabbit.available && postgres.available)('relais up (distributed)', () => {
  it('runs on RabbitMQ and PostgreSQL and reports both ready', async () => {
    const vhost = await createTestVhost();
    const schema = await createTestSchema();
    try {
      const run = startUp({
        AMQP_URL: vhost.url,
        DATABASE_URL: schema.url,
        ...testIdentity().env,
      });
      const port = await boundPort(run);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { bus: 'ok', store: 'ok' } });
      const started = run.lines
        .map(parseLogLine)
        .find((r) => r?.['event.action'] === 'platform.started');
      expect(started).toMatchObject({ relais: { mode: 'distributed', store: 'pg' } });
      run.signal('SIGTERM');
      expect((await run.exited).code).toBe(0);
    } finally {
      await vhost.cleanup();
      await schema.cleanup();
    }
  });
});
