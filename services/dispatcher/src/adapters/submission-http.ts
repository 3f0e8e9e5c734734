import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { RelaisError } from '@relais/domain';
import { buildRouter, defineRoute } from '@relais/http-api';
import type { Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';
import { z } from 'zod';
import { submissionOf, submissionRequestSchema } from '../domain/submission-request';
import type { RateLimiter } from '../domain/token-bucket';
import type { Submission, SubmissionReceipt } from '../handlers/submit-message';
import type { DispatcherLogEvent } from '../log-events';

/** What the HTTP submission listener needs. */
export interface SubmissionHttpOptions {
  host: string;
  /** API keys are looked up here by @relais/http-api's router. */
  store: Store;
  limiter: RateLimiter;
  submit: (submission: Submission) => Promise<SubmissionReceipt>;
  logger: Logger;
}

const receiptSchema = z.object({
  submissionId: z.uuid(),
  messages: z.array(
    z.object({ id: z.uuid(), to: z.string(), messageIdHeader: z.string(), state: z.string() }),
  ),
  replayed: z.boolean(),
});

/** Takes a token of the key's bucket, or throws RATE_LIMITED (429, Retry-After set). */
export function takeToken(
  limiter: RateLimiter,
  apiKeyId: string,
  setRetryAfter: (seconds: number) => void,
): void {
  const taken = limiter.take(apiKeyId);
  if (taken.ok) return;
  const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
  setRetryAfter(seconds);
  throw new RelaisError(
    'RATE_LIMITED',
    `rate limit of this API key exceeded; retry in ${seconds} s`,
  );
}

/**
 * `POST /v1/messages`: API key auth, validation and the error body of @relais/http-api. It
 * answers 202 only after every recipient's copy is confirmed by the broker.
 */
export function createSubmissionHttpListener(options: SubmissionHttpOptions) {
  const route = defineRoute({
    method: 'post',
    path: '/messages',
    operationId: 'submitMessage',
    summary: 'Submit a transactional message',
    tag: 'Submission',
    body: submissionRequestSchema,
    response: receiptSchema,
    status: 202,
    handler: async ({ scope, body, req, res }) => {
      takeToken(options.limiter, scope.apiKeyId, (seconds) =>
        res.set('Retry-After', String(seconds)),
      );
      // The conventional header works too; the body field wins when both are given.
      const header = req.get('idempotency-key');
      const idempotencyKey = body.idempotencyKey ?? (header === '' ? undefined : header);
      if (idempotencyKey !== undefined && idempotencyKey.length > 200) {
        throw new RelaisError('VALIDATION_FAILED', 'Idempotency-Key is at most 200 characters', {
          details: { parameter: 'Idempotency-Key' },
        });
      }
      return options.submit(submissionOf(scope.tenantId, 'http', { ...body, idempotencyKey }));
    },
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(
    '/v1',
    buildRouter([route], options, {
      requestFailedAction: 'submission.request_failed' satisfies DispatcherLogEvent,
    }),
  );
  let server: Server | undefined;
  return {
    listen: (port: number) =>
      new Promise<number>((resolve, reject) => {
        const listening = app.listen(port, options.host, (error?: Error) => {
          if (error) return reject(error);
          resolve((listening.address() as AddressInfo).port);
        });
        server = listening;
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (server === undefined) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
