import type { Envelope, MessageType } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import type { Destination, MxRecord } from './domain/destination';
import type { SmtpReply } from './domain/reply';

/** The MX half of `dns.promises`: tests pass a fake zone that records its queries. */
export interface MxResolver {
  /** Rejects with an error whose `code` is `ENODATA`/`ENOTFOUND` when the domain has no MX. */
  resolveMx(domain: string): Promise<MxRecord[]>;
}

/** Where a recipient domain's mail goes. */
export type Routing =
  /** Open (or reuse) an SMTP pool to this host:port. */
  | { kind: 'destination'; destination: Destination }
  /** The domain accepts no mail (null MX): bounce without connecting. */
  | { kind: 'no-mail' }
  /** No static route matches and MX lookup is off (embedded mode): refuse, never guess. */
  | { kind: 'unroutable' };

/** Finds the destination of a recipient domain: static routes first, then MX. */
export interface DestinationResolver {
  /** Rejects (as a RelaisError) when DNS could not answer; that defers the message. */
  resolve(domain: string): Promise<Routing>;
}

/** One message as it goes on the wire. */
export interface OutgoingMail {
  mailFrom: string;
  rcptTo: string;
  raw: Buffer;
}

/** Sends over pooled, reused SMTP connections, one pool per destination. */
export interface SmtpSender {
  /**
   * Resolves with the server's final reply, whatever it was: 250 and 550 alike. A failure
   * without any reply (refused connection, timeout) resolves with a reply without `code`.
   */
  send(destination: Destination, mail: OutgoingMail): Promise<SmtpReply>;
  /** Closes every pool; sends in flight finish first. */
  close(): Promise<void>;
}

/** Publishes an event and resolves once the broker confirmed it. */
export type Publish = <T extends MessageType>(envelope: Envelope<T>) => Promise<void>;

/** Everything the relay's handler needs. */
export interface RelayPorts {
  destinations: DestinationResolver;
  smtp: SmtpSender;
  publish: Publish;
  /** The bus's delay before the retry that follows handler attempt `attempt` (1-based). */
  retryDelayMs: (attempt: number) => number;
  /** Handler attempts the bus allows; the last one expires the message instead of retrying. */
  maxAttempts: number;
  now: () => Date;
  logger: Logger;
}
