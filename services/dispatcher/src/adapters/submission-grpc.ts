import { fileURLToPath } from 'node:url';
import {
  Server,
  ServerCredentials,
  loadPackageDefinition,
  status,
  type GrpcObject,
  type Metadata,
  type ServiceClientConstructor,
  type ServiceError,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { RelaisError, toRelaisError, type ErrorCode } from '@relais/domain';
import type { TenantScope } from '@relais/http-api';
import type { Logger } from '@relais/telemetry';
import { submissionOf, submissionRequestSchema } from '../domain/submission-request';
import type { RateLimiter } from '../domain/token-bucket';
import type { Submission, SubmissionReceipt } from '../handlers/submit-message';
import type { DispatcherLogEvent } from '../log-events';

/** The service definition, shipped with the package for clients in other services. */
export const SUBMISSION_PROTO_PATH = fileURLToPath(
  new URL('../../proto/relais/submission/v1/submission.proto', import.meta.url),
);

/** How the proto is read, on both ends: camelCase fields, absent fields left out. */
export const SUBMISSION_PROTO_OPTIONS: Options = { keepCase: false, defaults: false, oneofs: true };

/** The `relais.submission.v1.Submission` service constructor (a client, for callers). */
export function submissionServiceClient(): ServiceClientConstructor {
  const definition = loadPackageDefinition(
    loadSync(SUBMISSION_PROTO_PATH, SUBMISSION_PROTO_OPTIONS),
  );
  const v1 = ((definition['relais'] as GrpcObject)['submission'] as GrpcObject)['v1'] as GrpcObject;
  return v1['Submission'] as ServiceClientConstructor;
}

/** The gRPC status of every error code; the compiler keeps the table complete. */
export const GRPC_STATUS: Record<ErrorCode, status> = {
  CONFIG_INVALID: status.INTERNAL,
  MESSAGE_INVALID: status.INTERNAL,
  MESSAGE_UNKNOWN_TYPE: status.INTERNAL,
  HANDLER_FAILED: status.INTERNAL,
  BUS_UNAVAILABLE: status.UNAVAILABLE,
  BUS_PUBLISH_FAILED: status.UNAVAILABLE,
  BUS_CLOSED: status.UNAVAILABLE,
  STORE_UNAVAILABLE: status.UNAVAILABLE,
  STORE_QUERY_FAILED: status.INTERNAL,
  STORE_CONFLICT: status.ALREADY_EXISTS,
  STORE_MIGRATION_FAILED: status.INTERNAL,
  NOT_FOUND: status.NOT_FOUND,
  VALIDATION_FAILED: status.INVALID_ARGUMENT,
  UNAUTHORIZED: status.UNAUTHENTICATED,
  FORBIDDEN: status.PERMISSION_DENIED,
  STATE_CONFLICT: status.FAILED_PRECONDITION,
  PAYLOAD_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  SHUTTING_DOWN: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
};

/** What the gRPC submission listener needs. */
export interface SubmissionGrpcOptions {
  host: string;
  maxMessageBytes: number;
  authenticate: (key: string | undefined) => Promise<TenantScope>;
  limiter: RateLimiter;
  submit: (submission: Submission) => Promise<SubmissionReceipt>;
  logger: Logger;
}

interface Mailbox {
  address?: string;
  name?: string;
}

/** A decoded SendRequest: proto3 defaults are left out (`defaults: false`). */
interface SendRequest {
  from?: Mailbox;
  to?: string[];
  replyTo?: Mailbox;
  subject?: string;
  html?: string;
  text?: string;
  raw?: string;
  headers?: Record<string, string>;
  tags?: string[];
  idempotencyKey?: string;
}

const mailboxOf = (value: Mailbox | undefined) =>
  value === undefined ? undefined : { address: value.address ?? '', name: value.name };

function bearer(metadata: Metadata): string | undefined {
  const [value] = metadata.get('authorization');
  if (typeof value !== 'string') return undefined;
  const [scheme, token] = value.split(' ', 2);
  return scheme?.toLowerCase() === 'bearer' ? token?.trim() : undefined;
}

function toServiceError(error: unknown): Partial<ServiceError> {
  const relais = toRelaisError(error);
  const code = GRPC_STATUS[relais.code];
  // Internal failures may name tables or hosts: the caller gets the code only.
  const internal = code === status.INTERNAL || code === status.UNAVAILABLE;
  return {
    code,
    details: internal
      ? 'the server could not complete the request; try again later'
      : relais.message,
  };
}

/** gRPC `relais.submission.v1.Submission/Send`, with the semantics of `POST /v1/messages`. */
export function createSubmissionGrpcListener(options: SubmissionGrpcOptions) {
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes + 64 * 1024,
  });
  const send = async (request: SendRequest, metadata: Metadata): Promise<SubmissionReceipt> => {
    const scope = await options.authenticate(bearer(metadata));
    const taken = options.limiter.take(scope.apiKeyId);
    if (!taken.ok) {
      const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
      throw new RelaisError(
        'RATE_LIMITED',
        `rate limit of this API key exceeded; retry in ${seconds} s`,
      );
    }
    const parsed = submissionRequestSchema.safeParse({
      from: mailboxOf(request.from),
      to: request.to ?? [],
      replyTo: mailboxOf(request.replyTo),
      subject: request.subject,
      html: request.html,
      text: request.text,
      raw: request.raw,
      headers: request.headers,
      tags: request.tags,
      idempotencyKey: request.idempotencyKey,
    });
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.')}: ${issue.message}`,
      );
      throw new RelaisError('VALIDATION_FAILED', problems.join('; '));
    }
    return options.submit(submissionOf(scope.tenantId, 'grpc', parsed.data));
  };
  server.addService(submissionServiceClient().service, {
    Send: (call: ServerUnaryCall<SendRequest, unknown>, callback: sendUnaryData<unknown>) => {
      send(call.request, call.metadata).then(
        (receipt) => callback(null, receipt),
        (error: unknown) => {
          const relais = toRelaisError(error);
          if (GRPC_STATUS[relais.code] === status.INTERNAL) {
            options.logger.error(
              { 'event.action': 'submission.failed' satisfies DispatcherLogEvent, err: error },
              'gRPC submission failed',
            );
          }
          callback(toServiceError(relais));
        },
      );
    },
  });
  return {
    listen: (port: number) =>
      new Promise<number>((resolve, reject) => {
        // Loopback or a private network: TLS for gRPC is the platform's (mesh, ingress).
        server.bindAsync(
          `${options.host}:${port}`,
          ServerCredentials.createInsecure(),
          (error, port) => (error ? reject(error) : resolve(port)),
        );
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
