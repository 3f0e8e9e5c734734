import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelaisError } from '@relais/domain';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envVarFor, listLeaves } from './env';
import { configProblems, formatConfigError, loadConfig } from './load';
import { byteSize, duration, rate } from './units';

const schema = z.object({
  amqpUrl: z.string().optional(),
  shutdownTimeout: duration().prefault('30s'),
  httpPort: z.number().int().default(8080),
  verbose: z.boolean().default(false),
  pools: z.array(z.string()).default([]),
  relay: z
    .object({
      maxConnections: z.number().int().positive().default(10),
      sendRate: rate().prefault('100/s'),
      maxMessageSize: byteSize().prefault('10MB'),
    })
    .prefault({}),
  dbPassword: z.string().min(12).optional(),
});

const noArgs = { argv: [] as string[] };

function writeTemp(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'relais-config-')), name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RelaisError);
    expect((error as RelaisError).code).toBe('CONFIG_INVALID');
    return configProblems(error);
  }
  throw new Error('expected loadConfig to throw');
}

describe('env mapping', () => {
  it.each([
    [['amqpUrl'], 'AMQP_URL'],
    [['shutdownTimeout'], 'SHUTDOWN_TIMEOUT'],
    [['otelExporterOtlpEndpoint'], 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [['relay', 'maxConnections'], 'RELAY__MAX_CONNECTIONS'],
    [['s3Bucket'], 'S3_BUCKET'],
    [['dkimKeyID'], 'DKIM_KEY_ID'],
  ])('maps %j to %s', (path, envVar) => {
    expect(envVarFor(path)).toBe(envVar);
  });

  it('derives every env var from the schema, nested objects flattened', () => {
    expect(listLeaves(schema).map((leaf) => leaf.envVar)).toEqual([
      'AMQP_URL',
      'SHUTDOWN_TIMEOUT',
      'HTTP_PORT',
      'VERBOSE',
      'POOLS',
      'RELAY__MAX_CONNECTIONS',
      'RELAY__SEND_RATE',
      'RELAY__MAX_MESSAGE_SIZE',
      'DB_PASSWORD',
    ]);
  });

  it('coerces env text to the type each key expects', () => {
    const config = loadConfig(schema, {
      ...noArgs,
      env: {
        AMQP_URL: 'amqp://localhost',
        SHUTDOWN_TIMEOUT: '5s',
        HTTP_PORT: '9000',
        VERBOSE: 'yes',
        POOLS: 'bulk, transactional',
        RELAY__MAX_CONNECTIONS: '4',
        RELAY__SEND_RATE: '1,000/h',
        RELAY__MAX_MESSAGE_SIZE: '512KiB',
      },
    });
    expect(config).toEqual({
      amqpUrl: 'amqp://localhost',
      shutdownTimeout: 5_000,
      httpPort: 9000,
      verbose: true,
      pools: ['bulk', 'transactional'],
      relay: { maxConnections: 4, sendRate: { perSecond: 1000 / 3600 }, maxMessageSize: 524_288 },
    });
  });

  it('uses defaults when nothing is set and treats empty env values as unset', () => {
    const config = loadConfig(schema, { ...noArgs, env: { AMQP_URL: '', HTTP_PORT: ' ' } });
    expect(config.amqpUrl).toBeUndefined();
    expect(config.httpPort).toBe(8080);
    expect(config.shutdownTimeout).toBe(30_000);
    expect(config.relay.maxMessageSize).toBe(10_000_000);
  });
});

describe('file and env', () => {
  it('reads YAML and lets env override it', () => {
    const file = writeTemp(
      'relais.yaml',
      'httpPort: 7000\nshutdownTimeout: 10s\nrelay:\n  maxConnections: 2\n',
    );
    const config = loadConfig(schema, { ...noArgs, file, env: { RELAY__MAX_CONNECTIONS: '3' } });
    expect(config.httpPort).toBe(7000);
    expect(config.shutdownTimeout).toBe(10_000);
    expect(config.relay.maxConnections).toBe(3);
  });

  it('reads JSON named by RELAIS_CONFIG_FILE', () => {
    const file = writeTemp('relais.json', JSON.stringify({ relay: { sendRate: '50/min' } }));
    const config = loadConfig(schema, { ...noArgs, env: { RELAIS_CONFIG_FILE: file } });
    expect(config.relay.sendRate.perSecond).toBeCloseTo(50 / 60);
  });

  it('takes the file from --config over the file option', () => {
    const chosen = writeTemp('a.yaml', 'httpPort: 1111\n');
    const ignored = writeTemp('b.yaml', 'httpPort: 2222\n');
    expect(
      loadConfig(schema, { argv: ['--config', chosen], file: ignored, env: {} }).httpPort,
    ).toBe(1111);
    expect(loadConfig(schema, { argv: [`--config=${chosen}`], env: {} }).httpPort).toBe(1111);
  });

  it('reports an unreadable or malformed file as a problem', () => {
    expect(
      problemsOf(() =>
        loadConfig(schema, { ...noArgs, file: '/nonexistent/relais.yaml', env: {} }),
      ),
    ).toEqual([
      {
        key: '(config file)',
        source: 'file /nonexistent/relais.yaml',
        message: 'cannot be read (ENOENT); check RELAIS_CONFIG_FILE or --config',
      },
    ]);
    const bad = writeTemp('bad.yaml', 'relay: [unclosed\n');
    expect(
      problemsOf(() => loadConfig(schema, { ...noArgs, file: bad, env: {} }))[0]?.message,
    ).toMatch(/^is not valid YAML/);
  });

  it('names unknown file keys with a suggestion instead of ignoring them', () => {
    const file = writeTemp('typo.yaml', 'shutdown_timeout: 5s\nrelay:\n  maxConection: 3\n');
    expect(problemsOf(() => loadConfig(schema, { ...noArgs, file, env: {} }))).toEqual([
      {
        key: 'shutdown_timeout',
        source: `file ${file}`,
        message: "unknown key; did you mean 'shutdownTimeout'?",
      },
      {
        key: 'relay.maxConection',
        source: `file ${file}`,
        message: "unknown key; did you mean 'relay.maxConnections'?",
      },
    ]);
  });
});

describe('problems', () => {
  it('reports every problem at once, each with its key and source', () => {
    const file = writeTemp('relais.yaml', 'httpPort: eighty\n');
    const required = z.object({ ...schema.shape, amqpUrl: z.string() });
    const problems = problemsOf(() =>
      loadConfig(required, {
        ...noArgs,
        file,
        env: {
          SHUTDOWN_TIMEOUT: 'abc',
          RELAY__MAX_CONNECTIONS: '-2',
          RELAY__SEND_RATE: 'fast',
          VERBOSE: 'maybe',
        },
      }),
    );
    expect(problems).toEqual([
      {
        key: 'amqpUrl',
        source: `env AMQP_URL / file ${file}`,
        message: "required but not set; set AMQP_URL or 'amqpUrl' in the file",
      },
      {
        key: 'shutdownTimeout',
        source: 'env SHUTDOWN_TIMEOUT',
        message:
          "expected a duration like 30s, 5m or 1h30m (plain numbers are milliseconds), got 'abc'",
      },
      { key: 'httpPort', source: `file ${file}`, message: "expected number, got 'eighty'" },
      { key: 'verbose', source: 'env VERBOSE', message: "expected boolean, got 'maybe'" },
      {
        key: 'relay.maxConnections',
        source: 'env RELAY__MAX_CONNECTIONS',
        message: "Too small: expected number to be >0, got '-2'",
      },
      {
        key: 'relay.sendRate',
        source: 'env RELAY__SEND_RATE',
        message: "expected a rate like 100/s, 50/min, 1,000/h or 2000/d, got 'fast'",
      },
    ]);
  });

  it('lists each problem as KEY (source): problem in the error message', () => {
    try {
      loadConfig(schema, { ...noArgs, env: { HTTP_PORT: 'x', SHUTDOWN_TIMEOUT: 'y' } });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toBe(
        [
          'configuration has 2 problems:',
          "shutdownTimeout (env SHUTDOWN_TIMEOUT): expected a duration like 30s, 5m or 1h30m (plain numbers are milliseconds), got 'y'",
          "httpPort (env HTTP_PORT): expected number, got 'x'",
        ].join('\n'),
      );
      expect(formatConfigError(error)).toMatch(
        /^Configuration is invalid \(2 problems\):\n {2}- shutdownTimeout/,
      );
    }
  });

  it('never echoes a secret value in a problem', () => {
    const problems = problemsOf(() =>
      loadConfig(schema, { ...noArgs, env: { DB_PASSWORD: 'hunter2', AMQP_URL: 'amqp://u:pw@h' } }),
    );
    expect(problems).toEqual([
      {
        key: 'dbPassword',
        source: 'env DB_PASSWORD',
        message: "Too small: expected string to have >=12 characters, got '[redacted]'",
      },
    ]);
  });

  it('points a missing nested object at its children’s env vars', () => {
    const nested = z.object({ relay: z.object({ host: z.string().default('localhost') }) });
    expect(problemsOf(() => loadConfig(nested, { ...noArgs, env: {} }))).toEqual([
      { key: 'relay', source: 'env RELAY__*', message: 'required but not set; set RELAY__*' },
    ]);
  });

  it('formats foreign errors as their message', () => {
    expect(formatConfigError(new Error('boom'))).toBe('boom');
  });
});
