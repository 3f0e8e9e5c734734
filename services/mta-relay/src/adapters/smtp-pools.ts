import { hostname } from 'node:os';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from '@relais/telemetry';
import type { Destination } from '../domain/destination';
import { parseReply, type SmtpReply } from '../domain/reply';
import type { RelayLogEvent } from '../log-events';
import type { OutgoingMail, SmtpSender } from '../ports';

/** How the pools connect; timeouts in milliseconds. */
export interface SmtpPoolOptions {
  maxConnectionsPerDestination: number;
  maxMessagesPerConnection: number;
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
  transport: Transporter;
  inFlight: number;
  lastUsedMs: number;
}

/** The parts of a nodemailer error a reply can be rebuilt from. */
interface SmtpFailure {
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

/**
 * nodemailer's pooled SMTP transport, one pool per destination host:port. A pool keeps at
 * most `maxConnectionsPerDestination` connections open and queues the rest of that
 * destination's messages, so a slow destination only ever holds its own senders.
 */
export function createSmtpPools(options: SmtpPoolOptions): SmtpSender {
  const now = options.now ?? Date.now;
  const pools = new Map<string, PoolEntry>();
  const name = options.ehloName ?? hostname();

  const poolFor = (destination: Destination): PoolEntry => {
    const key = `${destination.host}:${destination.port}`;
    let entry = pools.get(key);
    if (entry === undefined) {
      const transport = createTransport({
        pool: true,
        host: destination.host,
        port: destination.port,
        name,
        secure: false,
        // Opportunistic STARTTLS: used when offered, never required, certificates not
        // checked (RFC 7435); MTA-STS/DANE enforcement is a later issue.
        tls: { rejectUnauthorized: false },
        maxConnections: options.maxConnectionsPerDestination,
        maxMessages: options.maxMessagesPerConnection,
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
      transport.on('error', (error) => {
        options.logger.warn(
          {
            err: error,
            'event.action': 'relay.smtp_pool_failed' satisfies RelayLogEvent,
            server: { address: destination.host, port: destination.port },
          },
          'smtp pool failed',
        );
      });
      entry = { transport, inFlight: 0, lastUsedMs: now() };
      pools.set(key, entry);
    }
    return entry;
  };

  const sweep = (): void => {
    const cutoff = now() - options.idleTimeoutMs;
    for (const [key, entry] of pools) {
      if (entry.inFlight === 0 && entry.lastUsedMs <= cutoff) {
        pools.delete(key);
        entry.transport.close();
      }
    }
  };
  const sweeper = setInterval(sweep, Math.max(1_000, Math.floor(options.idleTimeoutMs / 2)));
  sweeper.unref();

  return {
    async send(destination, mail: OutgoingMail): Promise<SmtpReply> {
      const entry = poolFor(destination);
      entry.inFlight += 1;
      try {
        const info = (await entry.transport.sendMail({
          envelope: { from: mail.mailFrom, to: [mail.rcptTo] },
          raw: mail.raw,
        })) as { response?: unknown };
        return parseReply(typeof info.response === 'string' ? info.response : '250 accepted');
      } catch (error) {
        return replyOfFailure(error as SmtpFailure);
      } finally {
        entry.inFlight -= 1;
        entry.lastUsedMs = now();
      }
    },
    async close() {
      clearInterval(sweeper);
      const entries = [...pools.values()];
      pools.clear();
      for (const entry of entries) entry.transport.close();
    },
  };
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
