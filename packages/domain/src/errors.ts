/**
 * The closed table of error codes. Every failure that crosses a module boundary is a
 * RelaisError with one of these codes; adapters wrap foreign errors into one of them.
 * `retryable` is the default for the code: a consumer retries (with delay) a retryable
 * failure and dead-letters the rest.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: { retryable: false, description: 'Configuration failed validation.' },
  MESSAGE_INVALID: {
    retryable: false,
    description: 'A bus message or its payload does not match its schema.',
  },
  MESSAGE_UNKNOWN_TYPE: {
    retryable: false,
    description: 'A bus message carries a type no schema is registered for.',
  },
  HANDLER_FAILED: { retryable: true, description: 'A message handler threw an unexpected error.' },
  BUS_UNAVAILABLE: { retryable: true, description: 'The message broker cannot be reached.' },
  BUS_PUBLISH_FAILED: {
    retryable: true,
    description: 'The broker refused or did not confirm a publish.',
  },
  BUS_CLOSED: { retryable: false, description: 'The bus was closed by its owner.' },
  STORE_UNAVAILABLE: { retryable: true, description: 'The database cannot be reached.' },
  STORE_QUERY_FAILED: { retryable: true, description: 'A database statement failed.' },
  STORE_CONFLICT: {
    retryable: false,
    description: 'A write conflicts with existing data (unique key).',
  },
  STORE_MIGRATION_FAILED: { retryable: false, description: 'A schema migration failed.' },
  NOT_FOUND: { retryable: false, description: 'The requested entity does not exist.' },
  VALIDATION_FAILED: { retryable: false, description: 'Input failed validation.' },
  UNAUTHORIZED: { retryable: false, description: 'Missing or invalid credentials.' },
  FORBIDDEN: { retryable: false, description: 'Credentials do not grant this action.' },
  STATE_CONFLICT: {
    retryable: false,
    description:
      'The entity is in a state that does not allow this action (e.g. launching a cancelled campaign).',
  },
  PAYLOAD_TOO_LARGE: { retryable: false, description: 'A request or row exceeds a size limit.' },
  RATE_LIMITED: {
    retryable: true,
    description: "The caller exceeded its rate limit (an API key's submissions); try again later.",
  },
  SHUTTING_DOWN: { retryable: true, description: 'The process is stopping; try again later.' },
  INTERNAL: { retryable: false, description: 'An invariant was broken; a bug.' },
} as const satisfies Record<string, { retryable: boolean; description: string }>;

/** One of the closed error codes above. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Safe-to-log details: never bodies, credentials or full addresses. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface RelaisErrorOptions {
  cause?: unknown;
  details?: ErrorDetails;
  /** Overrides the code's default retryability (e.g. a unique-key race that is worth a retry). */
  retryable?: boolean;
}

/** The one error type of relais: a closed code, retryability, safe details and a cause. */
export class RelaisError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: RelaisErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelaisError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.details = options.details ?? {};
  }
}

/** Normalizes anything thrown into a RelaisError; foreign errors become `fallback`. */
export function toRelaisError(error: unknown, fallback: ErrorCode = 'INTERNAL'): RelaisError {
  if (error instanceof RelaisError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RelaisError(fallback, message, { cause: error });
}

export function isRetryable(error: unknown): boolean {
  return error instanceof RelaisError ? error.retryable : true;
}
