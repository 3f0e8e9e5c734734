import { RelaisError } from '@relais/domain';

/** SQLSTATE of a unique-key violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * SQLSTATEs that mean "the server or the connection is gone", not "your statement is
 * wrong": class 08 (connection exception), 57P01–57P03 (shutdown / cannot connect now),
 * 53300 (too many connections).
 */
function isConnectionSqlstate(code: string): boolean {
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300'
  );
}

/**
 * Classes where retrying the same statement cannot succeed: data exceptions (22),
 * integrity violations (23), syntax and access rules (42). Everything else (serialization
 * failures, deadlocks, lock timeouts, resource limits) may pass on a retry.
 */
const PERMANENT_CLASSES = new Set(['22', '23', '42']);

const NODE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Messages node-postgres uses for a dead connection; it gives them no code. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection closed',
];

function fieldOf(error: unknown, name: string): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value: unknown = (error as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Wraps whatever a driver threw into a RelaisError. The driver's message is kept (it names
 * constraints, not values); its `detail` (which quotes key values, i.e. possibly addresses)
 * stays only in `cause`, never in `details`.
 */
export function toStoreError(error: unknown, action: string): RelaisError {
  if (error instanceof RelaisError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = fieldOf(error, 'code');
  const sqlstate = code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;

  if (sqlstate === UNIQUE_VIOLATION) {
    return new RelaisError('STORE_CONFLICT', `${action}: ${message}`, {
      cause: error,
      details: {
        sqlstate,
        constraint: fieldOf(error, 'constraint'),
        table: fieldOf(error, 'table'),
      },
    });
  }
  const connectionLost =
    (sqlstate !== undefined && isConnectionSqlstate(sqlstate)) ||
    (code !== undefined && NODE_NETWORK_CODES.has(code)) ||
    PG_CONNECTION_MESSAGES.some((text) => message.includes(text));
  if (connectionLost) {
    return new RelaisError('STORE_UNAVAILABLE', `${action}: ${message}`, {
      cause: error,
      details: { sqlstate: sqlstate ?? code },
    });
  }
  return new RelaisError('STORE_QUERY_FAILED', `${action}: ${message}`, {
    cause: error,
    details: { sqlstate, constraint: fieldOf(error, 'constraint'), table: fieldOf(error, 'table') },
    retryable: sqlstate === undefined ? true : !PERMANENT_CLASSES.has(sqlstate.slice(0, 2)),
  });
}
