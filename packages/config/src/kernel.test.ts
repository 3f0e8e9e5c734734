import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { kernelConfigSchema, mode, withModeCheck } from './kernel';
import { configProblems, loadConfig } from './load';

const schema = withModeCheck(
  kernelConfigSchema({ httpPort: 8081 }).extend({ batchSize: z.number().default(500) }),
);
const load = (env: Record<string, string>) => loadConfig(schema, { env, argv: [] });

describe('kernelConfigSchema', () => {
  it('fills the shared defaults, with the port the service chose', () => {
    expect(load({})).toEqual({
      dataDir: '.relais/data',
      logLevel: 'info',
      httpPort: 8081,
      httpHost: '0.0.0.0',
      shutdownTimeout: 30_000,
      namespace: 'relais',
      batchSize: 500,
    });
  });

  it('reads the documented env vars', () => {
    const config = load({
      AMQP_URL: 'amqps://relais:pw@rabbit:5671',
      DATABASE_URL: 'postgres://relais:pw@pg:5432/relais',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      SHUTDOWN_TIMEOUT: '45s',
      LOG_LEVEL: 'debug',
      HTTP_PORT: '0',
      NAMESPACE: 'staging',
    });
    expect(config).toMatchObject({
      shutdownTimeout: 45_000,
      logLevel: 'debug',
      httpPort: 0,
      namespace: 'staging',
    });
    expect(mode(config)).toBe('distributed');
  });

  it('rejects URLs of the wrong scheme, ports out of range and unknown levels', () => {
    try {
      load({
        AMQP_URL: 'http://rabbit',
        DATABASE_URL: 'pg',
        HTTP_PORT: '70000',
        LOG_LEVEL: 'verbose',
      });
      expect.unreachable();
    } catch (error) {
      expect(configProblems(error).map((problem) => `${problem.key}: ${problem.message}`)).toEqual([
        "amqpUrl: expected a URL (amqp:// or amqps://) like amqp://rabbitmq:5672, got 'http://rabbit'",
        "databaseUrl: expected a URL (postgres:// or postgresql://) like postgres://postgres:5432/relais, got 'pg'",
        "logLevel: expected one of fatal, error, warn, info, debug, trace, silent, got 'verbose'",
        "httpPort: expected a TCP port between 0 and 65535, got '70000'",
      ]);
    }
  });
});

describe('mode', () => {
  it('is embedded when neither infrastructure URL is set', () => {
    expect(mode(load({}))).toBe('embedded');
  });

  it('reports a half-configured distributed setup with the fix, alongside other problems', () => {
    try {
      load({ AMQP_URL: 'amqp://rabbit', NAMESPACE: 'Bad Name' });
      expect.unreachable();
    } catch (error) {
      const problems = configProblems(error);
      expect(problems.map((problem) => problem.key)).toEqual(['namespace', 'databaseUrl']);
      expect(problems[1]?.message).toMatch(
        /^AMQP_URL is set but DATABASE_URL is not; distributed mode needs both/,
      );
    }
  });

  it('throws CONFIG_INVALID when called on a half-configured config', () => {
    expect(() => mode({ databaseUrl: 'postgres://pg/relais' })).toThrow(
      /DATABASE_URL is set but AMQP_URL is not/,
    );
  });
});
