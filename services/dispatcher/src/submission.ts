import { randomUUID } from 'node:crypto';
import { RelaisError } from '@relais/domain';
import { authenticate } from '@relais/http-api';
import type { Platform } from '@relais/platform';
import { createSqlSubmissionStore } from './adapters/sql-submission-store';
import { createSubmissionGrpcListener } from './adapters/submission-grpc';
import { createSubmissionHttpListener } from './adapters/submission-http';
import { createSubmissionSmtpListener } from './adapters/submission-smtp';
import { loadTlsCredentials } from './adapters/tls-credentials';
import type { SubmissionSettings } from './config';
import type { MailIdentity } from './domain/compose-message';
import type { PoolRouter } from './domain/pool-routing';
import { createRateLimiter } from './domain/token-bucket';
import { submitMessage, type Submission } from './handlers/submit-message';
import type { DispatcherLogEvent } from './log-events';
import type { SubmissionPorts } from './ports';

/** Where embedded mode listens when no port is configured. */
export const EMBEDDED_SUBMISSION_PORTS = { smtp: 2587, http: 2580, grpc: 2581 } as const;

/** The ports the submission transports listen on; absent ones are not running. */
export interface SubmissionEndpoints {
  host: string;
  smtpPort?: number;
  httpPort?: number;
  grpcPort?: number;
}

type Transport = keyof typeof EMBEDDED_SUBMISSION_PORTS;

/** A port to bind; `fallback`: a default that may be taken, then any free port will do. */
interface Binding {
  port: number;
  fallback: boolean;
}

/** The port each transport should bind; absent transports stay off. */
function portsToBind(
  settings: SubmissionSettings,
  embedded: boolean,
): Partial<Record<Transport, Binding>> {
  if (settings.enabled === false) return {};
  const ports: Partial<Record<Transport, Binding>> = {};
  for (const transport of ['smtp', 'http', 'grpc'] as const) {
    const port = settings[transport].port;
    if (port !== undefined) ports[transport] = { port, fallback: false };
    else if (embedded) {
      ports[transport] = { port: EMBEDDED_SUBMISSION_PORTS[transport], fallback: true };
    }
  }
  return ports;
}

/**
 * Binds the port, or, for an embedded default found taken (a second `relais up`, parallel
 * tests), a free one: the log line and the handle say which.
 */
async function bind(listen: (port: number) => Promise<number>, binding: Binding): Promise<number> {
  try {
    return await listen(binding.port);
  } catch (error) {
    // grpc-js reports a taken port only in its message.
    const taken =
      (error as { code?: unknown }).code === 'EADDRINUSE' ||
      (error instanceof Error && error.message.includes('EADDRINUSE'));
    if (!binding.fallback || !taken) throw error;
    return listen(0);
  }
}

/**
 * Starts the configured submission transports over one use case, one API key lookup and one
 * rate limiter (a key's bucket is shared by SMTP, HTTP and gRPC). On shutdown the listeners
 * stop taking work in the intake phase; submissions in flight finish in the drain phase.
 */
export async function startSubmission(
  platform: Platform,
  settings: SubmissionSettings,
  mail: { identity: MailIdentity; route: PoolRouter },
): Promise<SubmissionEndpoints | undefined> {
  const ports = portsToBind(settings, platform.mode === 'embedded');
  if (Object.keys(ports).length === 0) return undefined;
  const { logger, store } = platform;
  const submissionPorts: SubmissionPorts = {
    store: createSqlSubmissionStore(store),
    publish: (envelopes) => platform.bus.publishMany(envelopes),
    identity: mail.identity,
    route: mail.route,
    limits: {
      maxRecipients: settings.smtp.maxRecipients,
      maxMessageBytes: settings.smtp.maxMessageBytes,
    },
    now: () => new Date(),
    newId: randomUUID,
    logger,
  };
  const submit = (submission: Submission) =>
    platform.runtime.trackInFlight(submitMessage(submission, submissionPorts));
  const limiter = createRateLimiter({
    perSecond: settings.rateLimit.rate.perSecond,
    burst: settings.rateLimit.burst,
    now: () => Date.now(),
  });
  const byKey = (key: string | undefined) => authenticate(store, key);
  const endpoints: SubmissionEndpoints = { host: settings.host };
  const listening = (transport: Transport, port: number) =>
    logger.info(
      {
        'event.action': 'submission.listening' satisfies DispatcherLogEvent,
        relais: { transport, host: settings.host, port },
      },
      'submission listening',
    );

  if (ports.smtp !== undefined) {
    // `relais service dispatcher` validates the nested settings only: check here too.
    const { tls: configured } = settings;
    if (
      platform.mode === 'distributed' &&
      (configured.privateKey === undefined || configured.certificate === undefined)
    ) {
      throw new RelaisError(
        'CONFIG_INVALID',
        'SMTP submission needs a TLS key and certificate in distributed mode: set DISPATCHER__SUBMISSION__TLS__PRIVATE_KEY and DISPATCHER__SUBMISSION__TLS__CERTIFICATE',
      );
    }
    const tls = await loadTlsCredentials(configured, settings.smtp.hostname);
    if (tls.generated) {
      logger.warn(
        { 'event.action': 'submission.tls_generated' satisfies DispatcherLogEvent },
        'STARTTLS certificate generated in memory: clients must accept it explicitly',
      );
    }
    const smtp = createSubmissionSmtpListener({
      settings,
      tls,
      authenticate: byKey,
      limiter,
      submit,
      logger,
    });
    endpoints.smtpPort = await bind(smtp.listen, ports.smtp);
    platform.runtime.onShutdown('submission smtp', () => smtp.close(), 'intake');
    listening('smtp', endpoints.smtpPort);
  }
  if (ports.http !== undefined) {
    const http = createSubmissionHttpListener({
      host: settings.host,
      store,
      limiter,
      submit,
      logger,
    });
    endpoints.httpPort = await bind(http.listen, ports.http);
    platform.runtime.onShutdown('submission http', () => http.close(), 'intake');
    listening('http', endpoints.httpPort);
  }
  if (ports.grpc !== undefined) {
    const grpc = createSubmissionGrpcListener({
      host: settings.host,
      maxMessageBytes: settings.smtp.maxMessageBytes,
      authenticate: byKey,
      limiter,
      submit,
      logger,
    });
    endpoints.grpcPort = await bind(grpc.listen, ports.grpc);
    platform.runtime.onShutdown('submission grpc', () => grpc.close(), 'intake');
    listening('grpc', endpoints.grpcPort);
  }
  return endpoints;
}
