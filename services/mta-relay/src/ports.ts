import type { Envelope, MessageType } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import type { Destination, MxRecord } from './domain/destination';
import type { SmtpReply } from './domain/reply';
import type { DeferralSchedules, SmtpCommand } from './domain/retry-policy';
import type { PausedSlice } from './domain/paused-slices';
import type { ProfileSet, Site } from './domain/sites';
import type {
  LearnedThrottle,
  ThrottleFeedback,
  ThrottleHistoryEntry,
} from './domain/throttle-controller';

/** The MX half of `dns.promises`: tests pass a fake zone that records its queries. */
export interface MxResolver {
  /** Rejects with an error whose `code` is `ENODATA`/`ENOTFOUND` when the domain has no MX. */
  resolveMx(domain: string): Promise<MxRecord[]>;
}

/** Where a recipient domain's mail goes. */
export type Routing =
  /**
   * Open (or reuse) an SMTP pool to this host:port; `fallbacks` are the next MX hosts in
   * preference order, tried when the connection fails (absent when there is only one).
   */
  | { kind: 'destination'; destination: Destination; fallbacks?: Destination[] }
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

/** How one send may use its destination (from the site's profile and the domain's policy). */
export interface SendPolicy {
  maxConnections: number;
  maxMessagesPerConnection: number;
  /** STARTTLS must succeed; a server without it defers the message instead of a cleartext send. */
  requireTls: boolean;
  /** The local address and EHLO name to send from; absent: the OS default and `ehloName`. */
  source?: EgressSource | undefined;
}

/** An egress source of an IP pool: the address a connection binds to and its EHLO name. */
export interface EgressSource {
  address: string;
  ehlo: string;
}

/** Sends of one source address on one UTC day (days since the epoch). */
export interface WarmupCount {
  source: string;
  day: number;
  sent: number;
}

/** One source's standing today, for reports. */
export interface SourceSnapshot {
  pool: string;
  address: string;
  ehlo: string;
  sentToday: number;
  /** Null once the source is warm (or has no warm-up plan). */
  capToday: number | null;
}

/** Picks the egress source of each send of a pool and keeps the warm-up counts. */
export interface SourceSelector {
  /** When every source of the pool is at its cap: the time the next UTC day starts. */
  cappedUntil(pool: string): number | undefined;
  /**
   * The next source by weight among those under their cap, counted as one send today;
   * `source` is undefined for a pool without configured sources (the OS default).
   */
  pick(
    pool: string,
  ): { kind: 'source'; source: EgressSource | undefined } | { kind: 'capped'; retryAtMs: number };
  /** The sends counted since the last call, to add to the store. */
  takeUnsaved(): WarmupCount[];
  /** Gives back counts a flush could not write, for the next flush. */
  restoreUnsaved(counts: readonly WarmupCount[]): void;
  snapshot(): SourceSnapshot[];
}

/** Where warm-up counts live between runs and across replicas. */
export interface WarmupStore {
  /** Sends per source address on `day`, all replicas together. */
  load(day: number): Promise<Map<string, number>>;
  /** Adds these sends to the stored totals. */
  add(counts: readonly WarmupCount[]): Promise<void>;
}

/** What a send ended with. */
export interface SendResult {
  reply: SmtpReply;
  /** The SMTP step the reply answered (`RCPT` for `RCPT TO`), when the client knows it. */
  command?: SmtpCommand;
  /** The host that gave the reply (the last one tried). */
  host: string;
}

/** Sends over pooled, reused SMTP connections, one pool per destination. */
export interface SmtpSender {
  /**
   * Resolves with the server's final reply, whatever it was: 250 and 550 alike. A failure
   * without any reply (refused connection, timeout) resolves with a reply without `code`,
   * after trying each of `destinations` in order (MX failover).
   */
  send(
    destinations: readonly Destination[],
    mail: OutgoingMail,
    policy: SendPolicy,
  ): Promise<SendResult>;
  /** Closes every pool; sends in flight finish first. */
  close(): Promise<void>;
}

/** Publishes an event and resolves once the broker confirmed it. */
export type Publish = <T extends MessageType>(envelope: Envelope<T>) => Promise<void>;

/** A send slot of a site, or the advice to come back later. */
export type SlotRequest = SendSlot | { kind: 'postponed'; retryAfterMs: number };

/** A granted send slot; `release` reports what the send said about the site. */
export interface SendSlot {
  kind: 'granted';
  release(feedback: ThrottleFeedback): void;
}

/** One controller's state, for persistence and reports. */
export interface ThrottleSnapshot {
  /** Changes of this state so far; a flush marks the version it wrote. */
  version: number;
  pool: string;
  site: string;
  ratePerSecond: number;
  concurrency: number;
  backoffUntilMs: number;
  consecutiveCuts: number;
  accepted: number;
  throttled: number;
  inFlight: number;
  waiting: number;
  history: readonly ThrottleHistoryEntry[];
}

/**
 * Which ready queue of a site a message waits in: transactional mail is served first and
 * never counted behind bulk (marketing) mail of the same site.
 */
export type SendLane = 'transactional' | 'bulk';

/** Paces sends per (pool × site) from each site's throttle controller. */
export interface SendScheduler {
  /**
   * A slot when the site can take the message soon, else `postponed` with the time to come
   * back: the site's expected wait, doubled for each earlier postponement of `messageKey`.
   * `lane` defaults to bulk.
   */
  acquire(pool: string, site: Site, messageKey: string, lane?: SendLane): Promise<SlotRequest>;
  /** How long one more message of this site would wait now. */
  waitMs(pool: string, site: Site): number;
  /** Controllers' states; `onlyChanged`: those changed since they were last marked saved. */
  snapshot(onlyChanged: boolean): ThrottleSnapshot[];
  /** Records that these snapshots were written, so unchanged states are not written again. */
  markSaved(snapshots: readonly ThrottleSnapshot[]): void;
  stats(): { postponed: number; sites: number };
  /** Stops pacing; waiting messages are postponed. */
  close(): void;
}

/** Where the controllers' learned states live between runs and across replicas. */
export interface ThrottleStateStore {
  load(): Promise<Map<string, LearnedThrottle>>;
  save(snapshots: readonly ThrottleSnapshot[]): Promise<void>;
}

/** Where the pauses in force of campaign slices are read. */
export interface PauseStore {
  load(): Promise<PausedSlice[]>;
}

/** The paused campaign slices the relay holds messages of. */
export interface PausedSlices {
  /** The pause that holds this message, if any. */
  holding(message: {
    campaignId?: string | undefined;
    recipientDomain: string;
    pool: string;
  }): PausedSlice | undefined;
  /** Reads the pauses in force now. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** Everything the relay's handler needs. */
export interface RelayPorts {
  destinations: DestinationResolver;
  smtp: SmtpSender;
  scheduler: SendScheduler;
  sources: SourceSelector;
  profiles: ProfileSet;
  publish: Publish;
  /** Delays after a deferral, by class. */
  schedules: DeferralSchedules;
  /** Handler attempts allowed; the last one expires the message instead of retrying. */
  maxAttempts: number;
  /** A message first tried longer ago than this expires (4.4.7) instead of retrying. */
  maxMessageAgeMs: number;
  /** Recipient domains that must be reached over TLS. */
  requiresTls: (domain: string) => boolean;
  now: () => Date;
  logger: Logger;
  /** Paused campaign slices whose messages are held; absent: nothing is ever held. */
  pauses?: PausedSlices;
  /** How long a held message waits before it is checked again. */
  pausedRecheckMs?: number;
}
