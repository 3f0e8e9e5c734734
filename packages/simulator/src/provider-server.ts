import type { AddressInfo } from 'node:net';
import type { Logger } from '@relais/telemetry';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server';
import { verifyDkim, type DkimCheck, type DnsResolver } from './dkim';
import type { ProviderPolicy } from './policy';
import type { Clock } from './random';
import { REPLIES, refusal, type RefusalReason, type SmtpReply } from './replies';
import { ProviderCounters } from './stats';

/** A message as received, before the simulator assigns it an id and stores it. */
export interface ReceivedMessage {
  provider: string;
  hostname: string;
  clientAddress: string;
  /** The name the client gave in EHLO/HELO (its claimed host name, e.g. an egress IP's PTR). */
  clientHelo: string;
  mailFrom: string;
  recipients: string[];
  raw: Buffer;
  dkim: DkimCheck[];
  receivedAtMs: number;
}

/** A refusal the simulator reports to its subscribers. */
export interface Refused {
  provider: string;
  clientAddress: string;
  reason: RefusalReason;
  reply: SmtpReply;
  /** Empty for refusals before MAIL FROM. */
  mailFrom: string;
  /** The refused recipient at RCPT, or every recipient of a refused message. */
  recipients: string[];
  phase: 'connect' | 'rcpt' | 'data';
}

/** What a provider server needs from the simulator that owns it. */
export interface ProviderServerPorts {
  policy: ProviderPolicy;
  clock: Clock;
  dkimResolver: DnsResolver;
  logger: Logger;
  idleTimeoutMs: number;
  closeTimeoutMs: number;
  /** Stores an accepted message (record, file, events) and returns its id. */
  store(message: ReceivedMessage): Promise<string>;
  refused(event: Refused): void;
}

interface SessionState {
  clientIp: string;
  admitted: boolean;
  /** The current message has taken its rate-limit token. */
  charged: boolean;
}

// RFC 5321 §4.5.3.1.4 allows 512 octets per command line; SIZE, DSN (ORCPT, ENVID) and
// SMTPUTF8 parameters push real clients past it, so allow what Postfix allows by default.
const MAX_COMMAND_LENGTH = 2048;

/** One listening SMTP server that behaves like one provider. */
export class ProviderServer {
  readonly counters: ProviderCounters;
  readonly hostname: string;
  private readonly sessions = new Map<string, SessionState>();
  private readonly server: SMTPServer;
  private port = 0;

  constructor(private readonly ports: ProviderServerPorts) {
    const profile = ports.policy.profile;
    this.counters = new ProviderCounters(profile.name);
    this.hostname =
      profile.hostname ?? `mx.${(profile.domains[0] ?? 'simulator').replace(/^\*\./, '')}`;
    this.server = new SMTPServer({
      name: this.hostname,
      banner: `${profile.name} provider simulator`,
      logger: false,
      // Plain SMTP only: the relay's opportunistic TLS is not what these tests measure.
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      disableReverseLookup: true,
      size: profile.maxMessageSizeBytes,
      maxCommandLength: MAX_COMMAND_LENGTH,
      socketTimeout: ports.idleTimeoutMs,
      closeTimeout: ports.closeTimeoutMs,
      onConnect: (session, callback) => this.settle(this.onConnect(session), callback),
      onMailFrom: (address, session, callback) =>
        this.settle(this.onMailFrom(address, session), callback),
      onRcptTo: (address, session, callback) =>
        this.settle(this.onRcptTo(address, session), callback),
      onData: (stream, session, callback) =>
        this.settle(this.onData(stream, session), (error, id) =>
          error === null ? callback(null, `2.0.0 OK queued as ${id}`) : callback(error),
        ),
      onClose: (session) => this.onClose(session),
    });
    this.server.on('error', (error) => {
      ports.logger.warn(
        { err: error, event: { action: 'simulator.connection.failed' }, provider: profile.name },
        'simulator connection failed',
      );
    });
  }

  get name(): string {
    return this.ports.policy.profile.name;
  }

  /** Starts listening; resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const netServer = this.server.listen(port, host, () => {
        netServer.off('error', reject);
        resolve();
      });
      netServer.once('error', reject);
    });
    this.port = (this.server.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Stops listening; open sessions get `closeTimeoutMs` to finish. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get boundPort(): number {
    return this.port;
  }

  // A refusal is an answer; anything else thrown (a failed .eml write, a DKIM library
  // error) is a simulator fault, logged here once and answered 451 so the client retries.
  private settle<T>(work: Promise<T>, callback: (error: Error | null, value?: T) => void): void {
    work.then(
      (value) => callback(null, value),
      (error: unknown) => {
        if (isRefusal(error)) return callback(error);
        this.ports.logger.error(
          { err: error, event: { action: 'simulator.session.failed' }, provider: this.name },
          'simulated provider failed a session step',
        );
        callback(
          Object.assign(new Error('4.3.0 local error in processing'), { responseCode: 451 }),
        );
      },
    );
  }

  private async reply(): Promise<void> {
    await this.ports.clock.sleep(this.ports.policy.latencyMs());
  }

  private refuse(
    reason: RefusalReason,
    state: SessionState,
    phase: Refused['phase'],
    mailFrom: string,
    recipients: string[],
  ): Error {
    this.counters.refused(reason);
    this.ports.refused({
      provider: this.name,
      clientAddress: state.clientIp,
      reason,
      reply: REPLIES[reason],
      mailFrom,
      recipients,
      phase,
    });
    return refusal(reason);
  }

  private async onConnect(session: SMTPServerSession): Promise<void> {
    const state: SessionState = {
      clientIp: session.remoteAddress,
      admitted: false,
      charged: false,
    };
    this.sessions.set(session.id, state);
    const reason = this.ports.policy.connected(state.clientIp);
    if (reason === null) {
      state.admitted = true;
      this.counters.connected();
    }
    await this.reply();
    if (reason !== null) throw this.refuse(reason, state, 'connect', '', []);
  }

  private async onMailFrom(_address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const state = this.state(session);
    state.charged = false;
    await this.reply();
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const state = this.state(session);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const reason = this.ports.policy.recipient({
      clientIp: state.clientIp,
      sender: mailFrom,
      recipient: address.address,
      firstOfMessage: !state.charged,
      acceptedSoFar: session.envelope.rcptTo.length,
    });
    state.charged = true;
    await this.reply();
    if (reason !== null) throw this.refuse(reason, state, 'rcpt', mailFrom, [address.address]);
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const state = this.state(session);
    const raw = await readBounded(stream);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address);
    await this.reply();
    const refuse = (reason: RefusalReason): Error =>
      this.refuse(reason, state, 'data', mailFrom, recipients);
    if (raw === null) throw refuse('message_too_large');
    const failure = this.ports.policy.message();
    if (failure !== null) throw refuse(failure);
    const dkim = await verifyDkim(raw, this.ports.dkimResolver, mailFrom);
    if (this.ports.policy.profile.requireDkimPass && !dkim.some((c) => c.result === 'pass')) {
      throw refuse('dkim_required');
    }
    const id = await this.ports.store({
      provider: this.name,
      hostname: this.hostname,
      clientAddress: state.clientIp,
      clientHelo: session.hostNameAppearsAs,
      mailFrom,
      recipients,
      raw,
      dkim,
      receivedAtMs: this.ports.clock.now(),
    });
    this.counters.accepted(recipients.length, raw.length, dkim);
    return id;
  }

  private onClose(session: SMTPServerSession): void {
    const state = this.sessions.get(session.id);
    this.sessions.delete(session.id);
    if (state?.admitted === true) {
      this.ports.policy.disconnected(state.clientIp);
      this.counters.disconnected();
    }
  }

  // smtp-server only calls the transaction hooks after onConnect admitted the session.
  private state(session: SMTPServerSession): SessionState {
    let state = this.sessions.get(session.id);
    if (state === undefined) {
      state = { clientIp: session.remoteAddress, admitted: false, charged: false };
      this.sessions.set(session.id, state);
    }
    return state;
  }
}

function isRefusal(error: unknown): error is Error {
  return (
    error instanceof Error && typeof (error as { responseCode?: unknown }).responseCode === 'number'
  );
}

/** The whole message, or null when it went over the server's `size` (drained, not kept). */
async function readBounded(stream: SMTPServerDataStream): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    if (!stream.sizeExceeded) chunks.push(chunk as Buffer);
  }
  return stream.sizeExceeded ? null : Buffer.concat(chunks);
}
