import type { AddressInfo } from 'node:net';
import { RelaisError, toRelaisError } from '@relais/domain';
import type { TenantScope } from '@relais/http-api';
import { checkAddress } from '@relais/mail';
import { bareLineEnding, isSmtpRefusal, smtpRefusal } from '@relais/smtp-intake';
import type { Logger } from '@relais/telemetry';
import type { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { SubmissionSettings } from '../config';
import { SMTP_REPLY, smtpReplyText } from '../domain/submission-replies';
import type { RateLimiter } from '../domain/token-bucket';
import { createNetworkMatcher } from '../domain/trusted-networks';
import type { Submission, SubmissionReceipt } from '../handlers/submit-message';
import type { DispatcherLogEvent } from '../log-events';
import { PromptSmtpServer } from './prompt-smtp-server';
import type { TlsCredentials } from './tls-credentials';

/** What the SMTP submission listener needs besides its settings. */
export interface SubmissionSmtpOptions {
  settings: SubmissionSettings;
  tls: TlsCredentials;
  /** The API key lookup of @relais/http-api; throws UNAUTHORIZED for a bad key. */
  authenticate: (key: string) => Promise<TenantScope>;
  limiter: RateLimiter;
  submit: (submission: Submission) => Promise<SubmissionReceipt>;
  logger: Logger;
}

/** A listening SMTP submission server. */
export interface SubmissionSmtpListener {
  /** Binds `port` (0: a free one); resolves with the bound port. */
  listen: (port: number) => Promise<number>;
  close: () => Promise<void>;
}

const MAX_COMMAND_LENGTH = 2048;
const CLOSE_TIMEOUT_MS = 5_000;

/** The RelaisError of any failure as the SMTP reply the table gives for its code. */
function replyFor(error: unknown) {
  const relais = toRelaisError(error);
  const reply = SMTP_REPLY[relais.code];
  return smtpRefusal(reply.code, smtpReplyText(reply, relais.message));
}

/**
 * SMTP submission (RFC 6409 style) for other services: STARTTLS, then AUTH PLAIN or LOGIN
 * whose password is a relais API key; MAIL needs AUTH. Each message is checked for bare CR
 * or LF (SMTP smuggling), size and recipient count, then handed to the submission use case;
 * 250 is answered only once every recipient's copy is confirmed by the broker.
 */
export function createSubmissionSmtpListener(
  options: SubmissionSmtpOptions,
): SubmissionSmtpListener {
  const { settings, tls, logger, limiter } = options;
  const smtp = settings.smtp;
  const scopes = new Map<string, TenantScope>();
  const trusted = createNetworkMatcher(settings.trustedNetworks);
  // Mail from a trusted network belongs to the configured tenant; its rate limit is one
  // bucket shared by every trusted client.
  const trustedScope =
    settings.trustedTenant === undefined
      ? undefined
      : { tenantId: settings.trustedTenant, apiKeyId: 'trusted-networks' };
  // A client of a trusted network may skip AUTH (and so STARTTLS), like Postfix mynetworks.
  const scopeOf = (session: SMTPServerSession): TenantScope | undefined =>
    scopes.get(session.id) ??
    (trustedScope !== undefined && trusted(session.remoteAddress) ? trustedScope : undefined);

  const refused = (reason: string, session: SMTPServerSession) =>
    logger.info(
      {
        'event.action': 'submission.refused' satisfies DispatcherLogEvent,
        relais: {
          source: 'smtp',
          reason,
          session: session.id,
          tenant_id: scopes.get(session.id)?.tenantId,
        },
      },
      'submission refused',
    );

  const receive = async (stream: SMTPServerDataStream, session: SMTPServerSession) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) {
      if (!stream.sizeExceeded) chunks.push(chunk as Buffer);
    }
    if (stream.sizeExceeded) {
      refused('size', session);
      throw smtpRefusal(552, `5.3.4 message exceeds the limit of ${smtp.maxMessageBytes} bytes`);
    }
    const raw = Buffer.concat(chunks);
    if (bareLineEnding(raw) !== -1) {
      refused('bare_line_ending', session);
      throw smtpRefusal(
        554,
        '5.6.0 bare CR or LF in message; every line must end with CRLF. Nothing was sent',
      );
    }
    const scope = scopeOf(session);
    if (scope === undefined) throw smtpRefusal(530, '5.7.0 authentication required');
    try {
      return await options.submit({
        tenantId: scope.tenantId,
        source: 'smtp',
        recipients: session.envelope.rcptTo.map((rcpt) => rcpt.address),
        content: { kind: 'raw', raw },
      });
    } catch (error) {
      const relais = toRelaisError(error);
      if (SMTP_REPLY[relais.code].showMessage) refused(relais.code, session);
      else
        logger.error(
          { 'event.action': 'submission.failed' satisfies DispatcherLogEvent, err: error },
          'submission not published; answered 4xx',
        );
      throw replyFor(relais);
    }
  };

  const server: SMTPServer = new PromptSmtpServer({
    name: smtp.hostname,
    banner: 'relais submission',
    logger: false,
    key: tls.privateKey,
    cert: tls.certificate,
    authMethods: ['PLAIN', 'LOGIN'],
    // AUTH before MAIL, and only over TLS: an API key never crosses the wire in clear. With
    // trusted networks AUTH is optional for the server, and onMailFrom refuses the others.
    authOptional: settings.trustedNetworks.length > 0,
    allowInsecureAuth: false,
    disabledCommands: [],
    disableReverseLookup: true,
    hideENHANCEDSTATUSCODES: true,
    size: smtp.maxMessageBytes,
    maxClients: smtp.maxConnections,
    socketTimeout: smtp.socketTimeout,
    closeTimeout: CLOSE_TIMEOUT_MS,
    maxCommandLength: MAX_COMMAND_LENGTH,
    onAuth: (auth, session, callback) => {
      if (!session.secure) {
        refused('auth_without_tls', session);
        callback(smtpRefusal(538, '5.7.11 encryption required: issue STARTTLS before AUTH'));
        return;
      }
      options.authenticate(auth.password ?? '').then(
        (scope) => {
          scopes.set(session.id, scope);
          callback(null, { user: scope.apiKeyId });
        },
        (error: unknown) => {
          if (error instanceof RelaisError && error.code === 'UNAUTHORIZED') {
            refused('bad_key', session);
            callback(replyFor(error));
            return;
          }
          logger.error(
            { 'event.action': 'submission.failed' satisfies DispatcherLogEvent, err: error },
            'API key lookup failed',
          );
          callback(smtpRefusal(454, '4.7.0 temporary authentication failure, try again later'));
        },
      );
    },
    onMailFrom: (_address, session, callback) => {
      const scope = scopeOf(session);
      if (scope === undefined) {
        callback(smtpRefusal(530, '5.7.0 authentication required'));
        return;
      }
      const taken = limiter.take(scope.apiKeyId);
      if (!taken.ok) {
        refused('rate_limited', session);
        const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
        callback(
          smtpRefusal(451, `4.7.0 rate limit of this API key exceeded; retry in ${seconds} s`),
        );
        return;
      }
      callback();
    },
    onRcptTo: (address, session, callback) => {
      if (session.envelope.rcptTo.length >= smtp.maxRecipients) {
        refused('too_many_recipients', session);
        callback(smtpRefusal(452, `4.5.3 at most ${smtp.maxRecipients} recipients per message`));
        return;
      }
      try {
        checkAddress(address.address, 'to');
      } catch {
        callback(smtpRefusal(553, '5.1.3 recipient is not a single valid address'));
        return;
      }
      callback();
    },
    onData: (stream, session, callback) => {
      // A client trickling its message byte by byte would hold a connection forever.
      const timer = setTimeout(() => {
        refused('data_timeout', session);
        for (const connection of server.connections) {
          if (connection.id !== session.id) continue;
          connection.send(421, '4.4.2 DATA took too long, closing');
          connection.close();
        }
        stream.destroy();
      }, smtp.dataTimeout);
      receive(stream, session).then(
        (receipt) => {
          clearTimeout(timer);
          const suppressed = receipt.messages.filter((m) => m.state === 'suppressed').length;
          const note = suppressed === 0 ? '' : `; ${suppressed} suppressed recipient(s) not sent`;
          callback(null, `2.0.0 OK queued as ${receipt.submissionId}${note}`);
        },
        (error: unknown) => {
          clearTimeout(timer);
          callback(isSmtpRefusal(error) ? error : replyFor(error));
        },
      );
    },
    onClose: (session) => {
      scopes.delete(session.id);
    },
  });
  server.on('error', (error) => {
    logger.warn(
      { 'event.action': 'submission.connection_failed' satisfies DispatcherLogEvent, err: error },
      'SMTP submission connection failed',
    );
  });

  return {
    listen: async (port) => {
      await new Promise<void>((resolve, reject) => {
        const netServer = server.listen(port, settings.host, () => {
          netServer.off('error', reject);
          resolve();
        });
        netServer.once('error', reject);
      });
      return (server.server.address() as AddressInfo).port;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
