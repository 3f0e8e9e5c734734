import { RelaisError } from '@relais/domain';
import { z } from 'zod';
import { duration } from './units';

/** pino levels a service accepts for `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** How the platform runs: all services in one process, or one process per service on real infrastructure. */
export type Mode = 'embedded' | 'distributed';

/** Per-service defaults of the shared fields. */
export interface KernelDefaults {
  /** Each service has its own port so they can share a host in development. */
  httpPort: number;
}

/** A URL whose scheme is one of `protocols` (with the trailing colon, as `URL.protocol` has it). */
export function url(protocols: readonly string[], example: string) {
  const expected = `expected a URL (${protocols.map((p) => `${p}//`).join(' or ')}) like ${example}`;
  return z
    .string({ error: expected })
    .refine((text) => URL.canParse(text) && protocols.includes(new URL(text).protocol), {
      error: expected,
    });
}

/**
 * The fields every service shares. Extend it with the service's own fields, then wrap
 * with `withModeCheck` so a half-configured distributed setup fails at load.
 */
export function kernelConfigSchema(defaults: KernelDefaults) {
  return z.object({
    /** RabbitMQ; set together with `databaseUrl` for distributed mode. */
    amqpUrl: url(['amqp:', 'amqps:'], 'amqp://rabbitmq:5672').optional(),
    /** PostgreSQL; set together with `amqpUrl` for distributed mode. */
    databaseUrl: url(['postgres:', 'postgresql:'], 'postgres://postgres:5432/relais').optional(),
    /** Embedded mode keeps its PGlite database and state here. */
    dataDir: z.string().min(1).default('.relais/data'),
    logLevel: z
      .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })
      .default('info'),
    /** 0 lets the OS pick a free port (tests, several embedded copies). */
    httpPort: z
      .number({ error: 'expected a TCP port number' })
      .int({ error: 'expected a whole TCP port number' })
      .min(0, { error: 'expected a TCP port between 0 and 65535' })
      .max(65535, { error: 'expected a TCP port between 0 and 65535' })
      .default(defaults.httpPort),
    httpHost: z.string().min(1).default('0.0.0.0'),
    /** OTLP/HTTP collector; without it traces are not exported. */
    otelExporterOtlpEndpoint: url(['http:', 'https:'], 'http://otel-collector:4318').optional(),
    /** Longest a graceful stop may take before the process exits with code 1. */
    shutdownTimeout: duration().prefault('30s'),
    /** Prefix of every exchange and queue, so several platforms can share one broker. */
    namespace: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/, {
        error:
          "expected lowercase letters, digits, '-' or '_' starting with a letter (it prefixes exchange and queue names)",
      })
      .default('relais'),
  });
}

/** The parsed shared fields. */
export type KernelConfig = z.output<ReturnType<typeof kernelConfigSchema>>;

type ModeFields = { amqpUrl?: string | undefined; databaseUrl?: string | undefined };

/** Distributed when both infrastructure URLs are set, embedded when neither is; one alone is a config error. */
export function mode(config: ModeFields): Mode {
  const problem = modeProblem(config);
  if (problem) throw new RelaisError('CONFIG_INVALID', `${problem.key}: ${problem.message}`);
  return config.amqpUrl ? 'distributed' : 'embedded';
}

/** Adds the embedded/distributed consistency check to a service schema built on the kernel fields. */
export function withModeCheck<S extends z.ZodObject>(schema: S): S {
  return schema.superRefine(
    (config, ctx) => {
      if (config === null || typeof config !== 'object') return;
      const problem = modeProblem(config);
      if (problem) ctx.addIssue({ code: 'custom', path: [problem.key], message: problem.message });
    },
    // Run even when other fields failed, so this problem is reported with the rest.
    { when: () => true },
  );
}

function modeProblem(config: ModeFields): { key: string; message: string } | undefined {
  const amqp = typeof config.amqpUrl === 'string' && config.amqpUrl !== '';
  const database = typeof config.databaseUrl === 'string' && config.databaseUrl !== '';
  if (amqp && !database) {
    return {
      key: 'databaseUrl',
      message:
        'AMQP_URL is set but DATABASE_URL is not; distributed mode needs both (set DATABASE_URL=postgres://…), embedded mode needs neither (unset AMQP_URL)',
    };
  }
  if (database && !amqp) {
    return {
      key: 'amqpUrl',
      message:
        'DATABASE_URL is set but AMQP_URL is not; distributed mode needs both (set AMQP_URL=amqp://…), embedded mode needs neither (unset DATABASE_URL)',
    };
  }
  return undefined;
}
