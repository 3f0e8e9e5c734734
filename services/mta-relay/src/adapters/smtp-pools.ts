import { hostname } from 'node:os';
import { domainToASCII } from 'node:url';
import type MailMessage from 'nodemailer/lib/mailer/mail-message';
import SMTPPool, { type SentMessageInfo } from 'nodemailer/lib/smtp-pool';
import type { Logger } from '@relais/telemetry';
import type { Destination } from '../domain/destination';
import { parseReply, type SmtpReply } from '../domain/reply';
import type { SmtpCommand } from '../domain/retry-policy';
import type { RelayLogEvent } from '../log-events';
import type { OutgoingMail, SendPolicy, SendResult, SmtpSender } from '../ports';

/** How the pools connect; timeouts in milliseconds. Limits come with each send's policy. */
export interface SmtpPoolOptions {
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
  /** A destination's pool is closed after this long without a message. */
  idleTimeoutMs: number;
  ehloName?: string | undefined;
  logger: Logger;
  now?: () => number;
}

interface PoolEntry {
  pool: SMTPPool;
  inFlight: number;
  lastUsedMs: number;
}

/** The parts of a nodemailer error a reply can be rebuilt from. */
interface SmtpFailure {
  command?: unknown;
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

/**
 * nodemailer's SMTP connection pool, one per destination host:port and egress source (bound to
 * the source's address, saying its EHLO name). A pool keeps at most
 * `maxConnectionsPerDestination` connections open and queues the rest of that
 * destination's messages, so a slow destination only ever holds its own senders.
 *
 * Messages go to the pool itself, not through `createTransport().sendMail`: that layer
 * builds a MailComposer/MimeNode per message (random boundary, random Message-ID when the
 * data carries none, a PassThrough → LastNewline `stream.pipeline` with its AbortController)
 * only to stream back the prebuilt bytes it was given. See `queuedMail`.
 */
export function createSmtpPools(options: SmtpPoolOptions): SmtpSender {
  const now = options.now ?? Date.now;
  const pools = new Map<string, PoolEntry>();
  const name = options.ehloName ?? hostname();

  const poolFor = (destination: Destination, policy: SendPolicy): PoolEntry => {
    // A TLS-required domain never shares a connection that may have stayed in cleartext, and
    // each egress source has connections of its own (bound to its address, with its EHLO).
    const source = policy.source;
    const key = `${destination.host}:${destination.port}${policy.requireTls ? ':tls' : ''}${
      source === undefined ? '' : `@${source.address}`
    }`;
    let entry = pools.get(key);
    if (entry === undefined) {
      const pool = new SMTPPool({
        host: destination.host,
        port: destination.port,
        name: source?.ehlo ?? name,
        ...(source === undefined ? {} : { localAddress: source.address }),
        secure: false,
        // Opportunistic STARTTLS unless the domain requires it; certificates are not checked
        // (RFC 7435): MTA-STS/DANE enforcement is a later issue.
        requireTLS: policy.requireTls,
        tls: { rejectUnauthorized: false },
        maxConnections: policy.maxConnections,
        maxMessages: policy.maxMessagesPerConnection,
        // A connection closing mid-message fails that message back to the relay instead
        // of being re-sent silently: its outcome must be reported (and may be a duplicate).
        maxRequeues: 0,
        idleTimeout: options.idleTimeoutMs,
        connectionTimeout: options.connectionTimeoutMs,
        greetingTimeout: options.greetingTimeoutMs,
        socketTimeout: options.socketTimeoutMs,
        logger: false,
      });
      // Failures reach each send's promise; an 'error' event without a listener would
      // crash the process instead, so it is logged here (once, with no address in it).
      pool.on('error', (error) => {
        options.logger.warn(
          {
            err: error,
            'event.action': 'relay.smtp_pool_failed' satisfies RelayLogEvent,
            server: { address: destination.host, port: destination.port },
          },
          'smtp pool failed',
        );
      });
      entry = { pool, inFlight: 0, lastUsedMs: now() };
      pools.set(key, entry);
    }
    return entry;
  };

  const sweep = (): void => {
    const cutoff = now() - options.idleTimeoutMs;
    for (const [key, entry] of pools) {
      if (entry.inFlight === 0 && entry.lastUsedMs <= cutoff) {
        pools.delete(key);
        entry.pool.close();
      }
    }
  };
  const sweeper = setInterval(sweep, Math.max(1_000, Math.floor(options.idleTimeoutMs / 2)));
  sweeper.unref();

  const sendTo = async (
    destination: Destination,
    mail: OutgoingMail,
    policy: SendPolicy,
  ): Promise<SendResult> => {
    const entry = poolFor(destination, policy);
    entry.inFlight += 1;
    // The pool calls back exactly once: sent, refused, failed, or drained by close().
    const result = await new Promise<SendResult>((resolve) => {
      entry.pool.send(queuedMail(mail), (error, info) => {
        if (error === null) {
          const text = typeof info?.response === 'string' ? info.response : '250 accepted';
          resolve({ reply: parseReply(text), command: 'DATA', host: destination.host });
          return;
        }
        const failure = error as SmtpFailure;
        const command = commandOf(failure.command);
        resolve({
          reply:
            policy.requireTls && (command === 'STARTTLS' || failure.code === 'ETLS')
              ? tlsRefused(failure)
              : replyOfFailure(failure),
          ...(command === undefined ? {} : { command }),
          host: destination.host,
        });
      });
    });
    entry.inFlight -= 1;
    entry.lastUsedMs = now();
    return result;
  };

  return {
    async send(destinations, mail, policy): Promise<SendResult> {
      let result: SendResult | undefined;
      for (const destination of destinations) {
        result = await sendTo(destination, mail, policy);
        if (!connectionFailed(result)) return result;
      }
      return result ?? { reply: parseReply('no destination host'), host: '' };
    },
    async close() {
      clearInterval(sweeper);
      const entries = [...pools.values()];
      pools.clear();
      for (const entry of entries) entry.pool.close();
    },
  };
}

/**
 * The message in the shape nodemailer's pool reads a queued mail in: `getEnvelope` and
 * `createReadStream` for the SMTP transaction, `messageId`/`getHeader('message-id')` for its
 * log lines only (logging is off, so no Message-ID is looked up: the header stays the
 * one in `raw`), and `data` for the per-message options this relay never sets (DSN,
 * REQUIRETLS, abort signal). `createReadStream` hands over the Buffer itself:
 * `SMTPConnection.send` writes a Buffer straight into its dot-stuffing stream, which also
 * ends the data with the CRLF a message without a final line break lacks, exactly the bytes
 * the MimeNode route produced, so DKIM signatures still verify.
 */
function queuedMail(mail: OutgoingMail): MailMessage<SentMessageInfo> {
  const from = envelopeAddress(mail.mailFrom);
  const to = envelopeAddress(mail.rcptTo);
  const queued = {
    data: {},
    message: {
      // A fresh object per call: SMTPConnection writes its transaction state into it.
      getEnvelope: () => ({ from, to: [to] }),
      getHeader: () => '',
      messageId: () => '',
      createReadStream: () => mail.raw,
    },
  };
  return queued as unknown as MailMessage<SentMessageInfo>;
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * An envelope address as nodemailer's address parsing left it for the wire: an
 * internationalised domain as its A-label when the local part is ASCII (else the whole
 * address stays UTF-8 and needs SMTPUTF8). ASCII addresses, nearly all of them, pass as is.
 */
function envelopeAddress(address: string): string {
  if (!NON_ASCII.test(address)) return address;
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at < 0 || NON_ASCII.test(local)) return address;
  const domain = domainToASCII(address.slice(at + 1));
  return domain === '' ? address : `${local}@${domain}`;
}

/**
 * RFC 5321 §5.1: try the next MX host when this one could not be reached or would not start
 * a session (no reply at all, or a 421 in place of the greeting). A reply to a command of the
 * transaction is the destination's answer and is not retried elsewhere.
 */
function connectionFailed(result: SendResult): boolean {
  if (result.reply.code === undefined) {
    return result.command === 'CONN' || result.command === 'STARTTLS';
  }
  return result.reply.code === 421 && result.command === 'CONN';
}

/** nodemailer's `err.command` (`RCPT TO`, `MAIL FROM`, `DATA`, `CONN`…) as a step name. */
function commandOf(command: unknown): SmtpCommand | undefined {
  if (typeof command !== 'string') return undefined;
  const verb = command.trim().toUpperCase().split(/\s+/)[0] ?? '';
  switch (verb) {
    case 'CONN':
    case 'GREETING':
      return 'CONN';
    case 'EHLO':
    case 'HELO':
    case 'LHLO':
      return 'HELO';
    case 'STARTTLS':
      return 'STARTTLS';
    case 'MAIL':
      return 'MAIL';
    case 'RCPT':
      return 'RCPT';
    case 'DATA':
      return 'DATA';
    default:
      return undefined;
  }
}

/**
 * A server that refuses STARTTLS to a domain whose mail must travel encrypted: our policy, not
 * the recipient's failure, so the reply keeps no code (deferred, never bounced) and says why.
 */
function tlsRefused(failure: SmtpFailure): SmtpReply {
  const answer = typeof failure.response === 'string' ? failure.response : String(failure.message);
  return parseReply(`ETLS: TLS is required for this domain and STARTTLS failed: ${answer}`);
}

/**
 * A reply from a nodemailer failure: the server's own line when there was one, else the
 * library's error code and message without a reply code, which keeps it deferrable.
 */
function replyOfFailure(error: SmtpFailure): SmtpReply {
  const responseCode = typeof error.responseCode === 'number' ? error.responseCode : undefined;
  if (typeof error.response === 'string' && error.response !== '') {
    return parseReply(error.response, responseCode);
  }
  const code = typeof error.code === 'string' ? error.code : 'ERROR';
  const message = typeof error.message === 'string' ? error.message : 'SMTP failure';
  const reply = parseReply(`${code}: ${message}`, responseCode);
  return reply;
}
