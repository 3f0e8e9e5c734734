import type { AddressInfo } from 'node:net';
import { parseVerp, type TokenSecrets } from '@relais/mail';
import {
  bareLineEnding,
  countReceived,
  isSmtpRefusal as isRefusal,
  smtpRefusal as refusal,
} from '@relais/smtp-intake';
import type { Logger } from '@relais/telemetry';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server';
import type { InboundSettings } from '../config';
import type { BounceLogEvent } from '../log-events';
import type { InboundMailSink, InboundRecipient } from '../ports';

/** What the listener needs besides its settings. */
export interface InboundSmtpOptions {
  settings: InboundSettings;
  /** The dispatcher's bounce secret(s): tokens sealed with none of them are refused. */
  secrets: TokenSecrets;
  sink: InboundMailSink;
  logger: Logger;
  /** The name in the greeting and EHLO reply; the first bounce domain by default. */
  hostname?: string;
}

/** A listening inbound SMTP server. */
export interface InboundSmtpListener {
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number>;
  /** Stops accepting connections; open sessions get a few seconds to finish. */
  close(): Promise<void>;
}

// Commands may carry SIZE, ENVID, ORCPT and SMTPUTF8 parameters; allow what Postfix allows.
const MAX_COMMAND_LENGTH = 2048;
const CLOSE_TIMEOUT_MS = 5_000;

// Shared with the dispatcher's submission listener; re-exported for this package's API.
export { bareLineEnding, countReceived };

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * The MX of the VERP return-path domain and of the feedback address. It accepts only
 * recipients it owns (a VERP address whose token it can open, or the feedback address): it
 * is not a relay, and it never sends mail, so it cannot produce backscatter. A message is
 * acknowledged 250 only after the sink made it durable.
 */
export function createInboundSmtpListener(options: InboundSmtpOptions): InboundSmtpListener {
  const { settings, secrets, sink, logger } = options;
  const domains = new Set(settings.domains);
  const feedback = settings.feedbackAddress;
  // Accepted recipients per session; smtp-server keeps only the addresses.
  const accepted = new Map<string, InboundRecipient[]>();

  // The code is passed as `{ action }` so the log-code registry test finds it at each call.
  const log = (
    { action }: { action: BounceLogEvent },
    fields: Record<string, unknown>,
    message: string,
  ) => logger.info({ 'event.action': action, relais: fields }, message);

  const checkRecipient = (address: SMTPServerAddress, session: SMTPServerSession) => {
    const rcpt = address.address.toLowerCase();
    if (feedback !== undefined && rcpt === feedback) {
      return { kind: 'feedback', address: rcpt } satisfies InboundRecipient;
    }
    if (!domains.has(domainOf(rcpt))) {
      log(
        { action: 'inbound.refused' },
        { reason: 'relay', session: session.id },
        'relaying denied',
      );
      throw refusal(550, '5.7.1 relaying denied');
    }
    const verp = parseVerp(rcpt, secrets);
    if (!verp.ok) {
      log(
        { action: 'inbound.refused' },
        { reason: `verp_${verp.reason}`, session: session.id },
        'unknown recipient on the bounce domain',
      );
      throw refusal(550, '5.1.1 no such recipient');
    }
    return { kind: 'verp', address: rcpt, messageId: verp.messageId } satisfies InboundRecipient;
  };

  const receive = async (stream: SMTPServerDataStream, session: SMTPServerSession) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) {
      if (!stream.sizeExceeded) chunks.push(chunk as Buffer);
    }
    const refuse = (reason: string, code: number, text: string) => {
      log({ action: 'inbound.refused' }, { reason, session: session.id }, 'message refused');
      return refusal(code, text);
    };
    if (stream.sizeExceeded) {
      throw refuse(
        'size',
        552,
        `5.3.4 message exceeds the limit of ${settings.maxMessageBytes} bytes`,
      );
    }
    const raw = Buffer.concat(chunks);
    if (bareLineEnding(raw) !== -1) {
      throw refuse('bare_line_ending', 554, '5.6.0 bare CR or LF in message; lines end with CRLF');
    }
    if (countReceived(raw) > settings.maxReceivedHeaders) {
      throw refuse('loop', 554, '5.4.6 too many Received headers: mail loop');
    }
    const recipients = accepted.get(session.id) ?? [];
    const mailFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
    try {
      await sink.onMessage({
        mailFrom,
        recipients,
        raw,
        receivedAt: new Date(),
        remoteAddress: session.remoteAddress,
      });
    } catch (error) {
      logger.error(
        { 'event.action': 'inbound.store_failed' satisfies BounceLogEvent, err: error },
        'inbound message not stored; answered 451',
      );
      throw refusal(451, '4.3.0 local error in processing, try again later');
    }
    log(
      { action: 'inbound.accepted' },
      { session: session.id, recipients: recipients.length, bytes: raw.length },
      'inbound message stored',
    );
  };

  const server: SMTPServer = new SMTPServer({
    name: options.hostname ?? settings.domains[0] ?? 'localhost',
    banner: 'relais bounce processor',
    logger: false,
    // Receiving MX only: no AUTH (nobody submits here), no STARTTLS (no certificate yet).
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    // Replies below carry their own enhanced status codes (RFC 3463).
    hideENHANCEDSTATUSCODES: true,
    size: settings.maxMessageBytes,
    // maxRecipients is enforced in onRcptTo, whose reply carries the enhanced status code.
    maxClients: settings.maxConnections,
    socketTimeout: settings.socketTimeout,
    closeTimeout: CLOSE_TIMEOUT_MS,
    maxCommandLength: MAX_COMMAND_LENGTH,
    onMailFrom: (address, session, callback) => {
      accepted.set(session.id, []);
      // Mail from our own return path arriving at our own return path: a loop.
      if (address.address !== '' && domains.has(domainOf(address.address))) {
        log(
          { action: 'inbound.refused' },
          { reason: 'own_mail', session: session.id },
          'own mail came back',
        );
        callback(refusal(554, '5.4.6 mail from this domain is not accepted here: loop'));
        return;
      }
      callback();
    },
    onRcptTo: (address, session, callback) => {
      try {
        const recipient = checkRecipient(address, session);
        const list = accepted.get(session.id) ?? [];
        if (list.length >= settings.maxRecipients) {
          callback(refusal(452, '4.5.3 too many recipients'));
          return;
        }
        list.push(recipient);
        accepted.set(session.id, list);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    onData: (stream, session, callback) => {
      // A client trickling its message byte by byte would hold a connection forever.
      const timer = setTimeout(() => {
        log(
          { action: 'inbound.refused' },
          { reason: 'data_timeout', session: session.id },
          'DATA too slow',
        );
        for (const connection of server.connections) {
          if (connection.id !== session.id) continue;
          connection.send(421, '4.4.2 DATA took too long, closing');
          connection.close();
        }
        stream.destroy();
      }, settings.dataTimeout);
      receive(stream, session).then(
        () => {
          clearTimeout(timer);
          callback(null, '2.0.0 OK stored');
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (isRefusal(error)) return callback(error);
          callback(refusal(451, '4.3.0 local error in processing, try again later'));
        },
      );
    },
    onClose: (session) => {
      accepted.delete(session.id);
    },
  });
  server.on('error', (error) => {
    logger.warn(
      { 'event.action': 'inbound.connection_failed' satisfies BounceLogEvent, err: error },
      'inbound SMTP connection failed',
    );
  });

  return {
    listen: async () => {
      await new Promise<void>((resolve, reject) => {
        const netServer = server.listen(settings.port, settings.host, () => {
          netServer.off('error', reject);
          resolve();
        });
        netServer.once('error', reject);
      });
      const port = (server.server.address() as AddressInfo).port;
      log({ action: 'inbound.listening' }, { host: settings.host, port }, 'inbound SMTP listening');
      return port;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
