import type { ErrorRequestHandler } from 'express';
import { RelaisError, type ErrorCode } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import { templateIssues } from '@relais/templates';

/** Where one problem of a request is: a body pointer or a parameter name. */
export interface InputIssue {
  pointer?: string | undefined;
  parameter?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
  message: string;
}

/**
 * VALIDATION_FAILED with every problem found, not only the first: error details are flat
 * (they are logged), so the list travels on the error itself.
 */
export class InputError extends RelaisError {
  readonly issues: readonly InputIssue[];

  constructor(message: string, issues: readonly InputIssue[], cause?: unknown) {
    const first = issues[0];
    super('VALIDATION_FAILED', message, {
      cause,
      details: {
        pointer: first?.pointer,
        parameter: first?.parameter,
        line: first?.line,
        column: first?.column,
      },
    });
    this.name = 'InputError';
    this.issues = issues;
  }
}

function issuesOf(error: RelaisError): readonly InputIssue[] {
  const own = (error as { issues?: unknown }).issues;
  if (Array.isArray(own)) return own as InputIssue[];
  return templateIssues(error);
}

/** HTTP status of every error code; the compiler keeps the table complete. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  CONFIG_INVALID: 500,
  MESSAGE_INVALID: 500,
  MESSAGE_UNKNOWN_TYPE: 500,
  HANDLER_FAILED: 500,
  BUS_UNAVAILABLE: 503,
  BUS_PUBLISH_FAILED: 503,
  BUS_CLOSED: 503,
  STORE_UNAVAILABLE: 503,
  STORE_QUERY_FAILED: 500,
  STORE_CONFLICT: 409,
  STORE_MIGRATION_FAILED: 500,
  NOT_FOUND: 404,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  STATE_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
};

/** The JSON error body of every failed request. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** RFC 6901 pointer into the request body at the offending value, when there is one. */
    pointer?: string;
    /** Query or path parameter at fault, when the fault is not in the body. */
    parameter?: string;
    /** Template problems also carry `line` and `column`. */
    line?: number;
    column?: number;
    issues?: readonly InputIssue[];
    /** Quote this when reporting a problem: it finds the server's log line. */
    requestId?: string;
  };
}

/** Details that are safe and useful to show a caller; everything else stays in the log. */
const PUBLIC_DETAILS = ['pointer', 'parameter', 'line', 'column'] as const;

export function errorBody(error: RelaisError, requestId?: string): ErrorBody {
  const status = HTTP_STATUS[error.code];
  // A 5xx message may name tables or constraints: the caller gets the code only.
  const message =
    status >= 500 ? 'The server could not complete the request; try again later.' : error.message;
  const body: ErrorBody = { error: { code: error.code, message } };
  for (const key of PUBLIC_DETAILS) {
    const value = error.details[key];
    if (value !== undefined && status < 500) Object.assign(body.error, { [key]: value });
  }
  const issues = status < 500 ? issuesOf(error) : [];
  if (issues.length > 0) body.error.issues = issues;
  if (requestId) body.error.requestId = requestId;
  return body;
}

/** What express and body-parser throw for unreadable bodies, mapped to our codes. */
function fromHttpLayer(error: unknown): RelaisError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.parse.failed') {
    return new RelaisError('VALIDATION_FAILED', 'The request body is not valid JSON.', {
      details: { pointer: '' },
    });
  }
  if (type === 'entity.too.large') {
    return new RelaisError('PAYLOAD_TOO_LARGE', 'The request body is larger than allowed.');
  }
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return new RelaisError('VALIDATION_FAILED', 'The request body encoding is not supported.');
  }
  return undefined;
}

/**
 * The last middleware: every error becomes one JSON body, and a 5xx one log line with
 * `event.action` = `failedAction`.
 */
export function errorHandler(logger: Logger, failedAction: string): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const relais =
      error instanceof RelaisError
        ? error
        : (fromHttpLayer(error) ??
          new RelaisError('INTERNAL', 'unexpected error', { cause: error }));
    const status = HTTP_STATUS[relais.code];
    const requestId = res.locals['requestId'] as string | undefined;
    if (status >= 500) {
      logger.error(
        {
          'event.action': failedAction,
          err: relais.cause ?? relais,
          'error.code': relais.code,
          'http.request.method': req.method,
          'url.path': req.route ? String((req.route as { path: unknown }).path) : undefined,
          'http.request.id': requestId,
        },
        'request failed',
      );
    }
    res.status(status).json(errorBody(relais, requestId));
  };
}
