import { ecsFormat } from '@elastic/ecs-pino-format';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** `service.name` in every record. */
  service: string;
  level?: pino.LevelWithSilent;
  /** Where records go; stdout unless a test captures them. */
  destination?: DestinationStream;
}

/**
 * Field paths that never reach a log record. Bodies, credentials and full recipient
 * addresses are the usual leaks; centralizing redaction keeps every service honest.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'secret',
  '*.secret',
  'body',
  '*.body',
  'raw',
  '*.raw',
  'rawBase64',
  '*.rawBase64',
];

/** The process logger: pino in Elastic Common Schema, built once in `main` and passed down. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      ...ecsFormat({ convertErr: true }),
      level: options.level ?? 'info',
      base: { service: { name: options.service } },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}

/** Masks the local part of an address so logs keep the domain (useful) without PII. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address[0]}***${address.slice(at)}`;
}
