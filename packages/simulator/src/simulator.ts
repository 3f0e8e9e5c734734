import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RelaisError } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import { createDkimKeyStore, type DkimCheck, type DnsResolver } from './dkim';
import { createEngagementScheduler, type EngagementSummary } from './engagement';
import { classifyFeedback, createSmtpMailSender, type MailSender } from './feedback';
import { ProviderPolicy } from './policy';
import {
  parseProfiles,
  type AsyncBounceFormat,
  type AsyncBounceReason,
  type ProviderProfile,
  type ProviderProfileInput,
} from './profile';
import {
  ProviderServer,
  type ProviderServerPorts,
  type ReceivedMessage,
  type Refused,
} from './provider-server';
import { deriveSeed, seededRandom, systemClock, type Clock, type Random } from './random';
import {
  bounceFormatOf,
  bounceStatusOf,
  buildArf,
  buildDsn,
  headerValue,
  type BuiltReport,
} from './reports';
import type { ProviderStats } from './stats';

/** How to start a simulator. */
export interface SimulatorOptions {
  profiles: readonly ProviderProfileInput[];
  /** Interface to listen on; keep the loopback default outside a container. */
  host?: string;
  /** 0 (default): an ephemeral port per provider; N: provider i listens on N + i. */
  basePort?: number;
  /** Where DKIM keys are looked up; default: an empty in-memory zone (every key missing). */
  dkimResolver?: DnsResolver;
  /** When set, every accepted message is written to `<outputDir>/<provider>/<id>.eml`. */
  outputDir?: string;
  logger: Logger;
  /** Seeds every random draw (address fates, temp failures, latency); default 1. */
  seed?: number;
  /** Replaces the seeded generators for temp failures and latency (address fates stay hashed). */
  random?: Random;
  clock?: Clock;
  /** Accepted messages kept in memory for `messages()`, oldest dropped first; default 1000. */
  recordLimit?: number;
  /** An idle client is disconnected after this long; default 60 s. */
  idleTimeoutMs?: number;
  /** On close, sessions still open are cut after this long; default 1 s. */
  closeTimeoutMs?: number;
  /**
   * Where later bounces (DSNs) and complaints (ARF) are delivered over SMTP: the bounce
   * processor's inbound listener. Absent: they are only emitted as events and kept in memory.
   */
  returnPath?: { host: string; port: number };
  /** Replaces the SMTP sender built from `returnPath` (tests, in-process delivery). */
  mailSender?: MailSender;
  /**
   * Hosts simulated recipients may fetch tracking URLs from; default loopback only, so a
   * simulated open never leaves the machine.
   */
  engagementHosts?: readonly string[];
}

/** A later bounce or complaint about one recipient of an accepted message. */
export interface FeedbackReport {
  kind: 'bounce' | 'complaint';
  provider: string;
  /** The simulator's id of the accepted message (`AcceptedMessage.id`). */
  acceptedId: string;
  /** The Message-ID header of the original message, or null when it had none. */
  originalMessageId: string | null;
  recipient: string;
  /** The original MAIL FROM (the VERP return path). */
  returnPath: string;
  /** '' for a DSN: the null sender. */
  envelopeFrom: string;
  envelopeTo: string;
  format: AsyncBounceFormat | 'arf';
  /** A bounce reason (Sisimai's names) or `abuse` for a complaint. */
  reason: AsyncBounceReason | 'abuse';
  /** The DSN status (`5.1.1`), null for a complaint. */
  status: string | null;
  /** True when it went out over SMTP; false when there is no `returnPath` to send to. */
  delivered: boolean;
  raw: Buffer;
}

/** A static route for the relay: recipients matching `pattern` go to host:port. */
export interface SimulatorRoute {
  pattern: string;
  host: string;
  port: number;
  provider: string;
}

/** A message a provider accepted (answered 250 to). */
export interface AcceptedMessage extends ReceivedMessage {
  id: string;
  sizeBytes: number;
  /** The .eml written to `outputDir`, or null when the simulator does not write files. */
  file: string | null;
}

/** What subscribers hear, as it happens. */
export type SimulatorEvent =
  /** A provider answered 250 to the end of DATA. */
  | { type: 'message.accepted'; message: AcceptedMessage }
  /** A connection was refused at the greeting (the connection cap). */
  | ({ type: 'connection.refused' } & Refused)
  /** One RCPT TO was refused (rate limit, unknown user, mailbox full, greylisting, …). */
  | ({ type: 'recipient.refused' } & Refused)
  /** A whole message was refused after DATA (temp failure, size, DKIM required). */
  | ({ type: 'message.refused' } & Refused)
  /** A later bounce (DSN) was generated and, with `returnPath`, delivered. */
  | { type: 'bounce.sent'; report: FeedbackReport }
  /** A complaint (ARF report) was generated and, with `returnPath`, delivered. */
  | { type: 'complaint.sent'; report: FeedbackReport }
  /** Delivering a bounce or complaint to `returnPath` failed; it is not retried. */
  | { type: 'feedback.failed'; report: FeedbackReport; error: string };

/**
 * What `updateProfile` may change while the simulator runs: how recipients and messages are
 * answered from now on. Fields that shape connections and limits (domains, rate limits,
 * greylisting, sizes) are fixed at start.
 */
export const UPDATABLE_PROFILE_FIELDS = [
  'unknownUsers',
  'unknownUserRate',
  'fullMailboxes',
  'mailboxFullRate',
  'tempFailureRate',
  'latencyMs',
  'requireDkimPass',
  'asyncBounceRate',
  'complaintRate',
] as const;

/** A change to a running provider's behaviour. */
export type ProfileUpdate = Partial<
  Pick<ProviderProfileInput, (typeof UPDATABLE_PROFILE_FIELDS)[number]>
>;

/** A running simulator: one SMTP listener per provider profile. */
export interface Simulator {
  readonly profiles: readonly ProviderProfile[];
  readonly seed: number;
  /** One route per domain pattern, for the relay's static route table. */
  routes(): SimulatorRoute[];
  /** Counters per provider name. */
  stats(): Record<string, ProviderStats>;
  /** The most recent accepted messages (at most `recordLimit`), oldest first. */
  messages(): AcceptedMessage[];
  /** The most recent bounces and complaints generated (at most `recordLimit`), oldest first. */
  feedbackReports(): FeedbackReport[];
  /** Bounces and complaints scheduled but not yet generated. */
  pendingFeedback(): number;
  /** Opens and clicks performed so far through the tracking URLs. */
  engagement(): EngagementSummary;
  /** Opens and clicks scheduled or running. */
  pendingEngagement(): number;
  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (event: SimulatorEvent) => void): () => void;
  /**
   * Changes a provider's behaviour from its next reply on, e.g. a provider that starts
   * refusing 20 % of addresses mid-campaign (`{ unknownUserRate: 0.2 }`). Returns the new
   * profile; throws CONFIG_INVALID for an unknown provider or an invalid value.
   */
  updateProfile(name: string, update: ProfileUpdate): ProviderProfile;
  /** Resolves once `count` messages in total have been accepted since start. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<void>;
  /**
   * Stops every listener and drops scheduled bounces and complaints; waits for open sessions
   * and for reports being delivered, each up to `closeTimeoutMs`.
   */
  close(): Promise<void>;
}

const REFUSAL_EVENT = {
  connect: 'connection.refused',
  rcpt: 'recipient.refused',
  data: 'message.refused',
} as const satisfies Record<Refused['phase'], SimulatorEvent['type']>;

/** Starts one SMTP server per profile and resolves once all of them listen. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const profiles = parseProfiles(options.profiles);
  const host = options.host ?? '127.0.0.1';
  const basePort = options.basePort ?? 0;
  const seed = options.seed ?? 1;
  const clock = options.clock ?? systemClock;
  const recordLimit = options.recordLimit ?? 1000;
  const { logger, outputDir } = options;
  const dkimResolver = options.dkimResolver ?? createDkimKeyStore().resolver;
  // Ids stay unique across runs writing into the same outputDir.
  const runId = randomBytes(3).toString('hex');
  const listeners = new Set<(event: SimulatorEvent) => void>();
  const record: AcceptedMessage[] = [];
  const reports: FeedbackReport[] = [];
  const sender =
    options.mailSender ??
    (options.returnPath === undefined ? null : createSmtpMailSender(options.returnPath));
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let sequence = 0;
  let acceptedTotal = 0;

  const emit = (event: SimulatorEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.error(
          { err: error, event: { action: 'simulator.listener.failed' } },
          'simulator listener failed',
        );
      }
    }
  };

  const store = async (received: ReceivedMessage): Promise<string> => {
    sequence += 1;
    const id = `${received.provider}-${runId}-${String(sequence).padStart(6, '0')}`;
    let file: string | null = null;
    if (outputDir !== undefined) {
      const dir = join(outputDir, received.provider);
      await mkdir(dir, { recursive: true });
      file = join(dir, `${id}.eml`);
      await writeFile(file, Buffer.concat([traceHeaders(received), received.raw]));
    }
    const message: AcceptedMessage = { ...received, id, sizeBytes: received.raw.length, file };
    if (recordLimit > 0) {
      record.push(message);
      if (record.length > recordLimit) record.splice(0, record.length - recordLimit);
    }
    acceptedTotal += 1;
    emit({ type: 'message.accepted', message });
    scheduleFeedback(message);
    const profile = profiles.find((candidate) => candidate.name === message.provider);
    if (profile !== undefined && !stopping) engagement.schedule(profile, seed, message);
    return id;
  };

  const engagementRandoms = new Map<string, Random>();
  const engagement = createEngagementScheduler({
    logger,
    allowedHosts: options.engagementHosts ?? ['127.0.0.1', 'localhost', '[::1]'],
    random: (provider) => {
      let random = engagementRandoms.get(provider);
      if (random === undefined) {
        random = options.random ?? seededRandom(deriveSeed(seed, `${provider}/engagement`));
        engagementRandoms.set(provider, random);
      }
      return random;
    },
  });

  const feedbackRandoms = new Map<string, Random>();
  const drawDelay = (profile: ProviderProfile, delay: ProviderProfile['latencyMs']): number => {
    if (typeof delay === 'number') return delay;
    let random = feedbackRandoms.get(profile.name);
    if (random === undefined) {
      random = options.random ?? seededRandom(deriveSeed(seed, `${profile.name}/feedback`));
      feedbackRandoms.set(profile.name, random);
    }
    return Math.round(delay.min + random() * (delay.max - delay.min));
  };

  const scheduleFeedback = (message: AcceptedMessage): void => {
    const index = profiles.findIndex((candidate) => candidate.name === message.provider);
    const profile = profiles[index];
    if (profile === undefined || stopping) return;
    if (profile.asyncBounceRate === 0 && profile.complaintRate === 0) return;
    for (const recipient of message.recipients) {
      const fate = classifyFeedback(profile, recipient, seed);
      if (fate.kind === 'none') continue;
      const delayMs = drawDelay(
        profile,
        fate.kind === 'bounce' ? profile.asyncBounceDelayMs : profile.complaintDelayMs,
      );
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (stopping) return;
        const source = { ...message, recipient };
        const nowMs = clock.now();
        const originalMessageId = headerValue(message.raw, 'Message-ID');
        let built: BuiltReport;
        let report: Omit<FeedbackReport, 'raw' | 'envelopeFrom' | 'envelopeTo' | 'delivered'>;
        if (fate.kind === 'bounce') {
          const format = bounceFormatOf(profile);
          built = buildDsn(source, format, fate.reason, nowMs);
          report = {
            kind: 'bounce',
            format,
            reason: fate.reason,
            status: bounceStatusOf(fate.reason),
            provider: profile.name,
            acceptedId: message.id,
            originalMessageId,
            recipient,
            returnPath: message.mailFrom,
          };
        } else {
          const domain = message.mailFrom.slice(message.mailFrom.lastIndexOf('@') + 1);
          const to = profile.feedback.address ?? `fbl@${domain}`;
          built = buildArf(source, to, profile.feedback.userAgent, nowMs);
          report = {
            kind: 'complaint',
            format: 'arf',
            reason: 'abuse',
            status: null,
            provider: profile.name,
            acceptedId: message.id,
            originalMessageId,
            recipient,
            returnPath: message.mailFrom,
          };
        }
        deliver({ ...report, ...built, delivered: sender !== null });
      }, delayMs);
      timer.unref();
      timers.add(timer);
    }
  };

  const deliver = (report: FeedbackReport): void => {
    const counters = servers.find((server) => server.name === report.provider)?.counters;
    const done = (): void => {
      if (recordLimit > 0) {
        reports.push(report);
        if (reports.length > recordLimit) reports.splice(0, reports.length - recordLimit);
      }
      counters?.feedback(report.kind);
      emit({ type: report.kind === 'bounce' ? 'bounce.sent' : 'complaint.sent', report });
    };
    if (sender === null) return done();
    const sending = sender
      .send({ from: report.envelopeFrom, to: report.envelopeTo }, report.raw)
      .then(done, (error: unknown) => {
        counters?.feedbackFailed();
        const reason = error instanceof Error ? error.message : String(error);
        logger.warn(
          {
            err: error,
            event: { action: 'simulator.feedback.failed' },
            provider: report.provider,
            kind: report.kind,
          },
          'simulator could not deliver a bounce or complaint',
        );
        emit({ type: 'feedback.failed', report: { ...report, delivered: false }, error: reason });
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  const policies = profiles.map(
    (profile) => new ProviderPolicy(profile, seed, clock, options.random),
  );
  const servers = profiles.map((_, index) => {
    const ports: ProviderServerPorts = {
      policy: policies[index]!,
      clock,
      dkimResolver,
      logger,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 1_000,
      store,
      refused: (refused) => emit({ type: REFUSAL_EVENT[refused.phase], ...refused }),
    };
    return new ProviderServer(ports);
  });

  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.close()));
  };
  try {
    for (const [index, server] of servers.entries()) {
      await server.listen(host, basePort === 0 ? 0 : basePort + index);
    }
  } catch (error) {
    await closeAll();
    throw new RelaisError('CONFIG_INVALID', 'a simulated provider could not listen', {
      cause: error,
      details: { host, basePort, fix: 'pick a free basePort or use 0 for ephemeral ports' },
    });
  }
  for (const server of servers) {
    logger.info(
      {
        event: { action: 'simulator.provider.listening' },
        provider: server.name,
        server: { address: host, port: server.boundPort },
      },
      'simulated provider listening',
    );
  }

  let closing: Promise<void> | null = null;
  return {
    profiles,
    seed,
    routes: () =>
      servers.flatMap((server, index) =>
        (profiles[index]?.domains ?? []).map((pattern) => ({
          pattern,
          host,
          port: server.boundPort,
          provider: server.name,
        })),
      ),
    stats: () =>
      Object.fromEntries(servers.map((server) => [server.name, server.counters.snapshot()])),
    messages: () => [...record],
    feedbackReports: () => [...reports],
    pendingFeedback: () => timers.size,
    engagement: () => engagement.summary(),
    pendingEngagement: () => engagement.pending(),
    updateProfile: (name, update) => {
      const index = profiles.findIndex((candidate) => candidate.name === name);
      const current = profiles[index];
      if (current === undefined) {
        throw new RelaisError('CONFIG_INVALID', `no simulated provider named ${name}`, {
          details: { provider: name, known: profiles.map((p) => p.name).join(',') },
        });
      }
      const changes = Object.fromEntries(
        UPDATABLE_PROFILE_FIELDS.filter((field) => update[field] !== undefined).map((field) => [
          field,
          update[field],
        ]),
      );
      // Parsed again as a whole, so an update is checked like a profile file.
      const [next] = parseProfiles([{ ...current, ...changes }]);
      profiles[index] = next!;
      policies[index]!.profile = next!;
      logger.info(
        { event: { action: 'simulator.provider.updated' }, provider: name, changes },
        'simulated provider behaviour changed',
      );
      return next!;
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForAccepted: (count, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (acceptedTotal >= count) return resolve();
        const timer = setTimeout(() => {
          unsubscribe();
          reject(
            new RelaisError(
              'INTERNAL',
              `expected ${count} accepted messages within ${timeoutMs} ms`,
              {
                details: { expected: count, accepted: acceptedTotal },
              },
            ),
          );
        }, timeoutMs);
        const listener = (event: SimulatorEvent): void => {
          if (event.type !== 'message.accepted' || acceptedTotal < count) return;
          clearTimeout(timer);
          unsubscribe();
          resolve();
        };
        const unsubscribe = (): void => void listeners.delete(listener);
        listeners.add(listener);
      }),
    close: () => {
      stopping = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      closing ??= closeAll().then(async () => {
        await engagement.close(options.closeTimeoutMs ?? 1_000);
        if (inFlight.size > 0) {
          let bound: NodeJS.Timeout | undefined;
          await Promise.race([
            Promise.allSettled([...inFlight]),
            new Promise<void>((resolve) => {
              bound = setTimeout(resolve, options.closeTimeoutMs ?? 1_000);
            }),
          ]);
          clearTimeout(bound);
        }
        sender?.close();
        listeners.clear();
        logger.info({ event: { action: 'simulator.closed' } }, 'simulator closed');
      });
      return closing;
    },
  };
}

// What a receiving MTA prepends on delivery: the envelope sender and its DKIM verdicts.
function traceHeaders(message: ReceivedMessage): Buffer {
  const verdicts = message.dkim.map((check: DkimCheck) =>
    check.algorithm === 'none'
      ? 'dkim=none'
      : `dkim=${check.result} header.d=${check.domain} header.s=${check.selector} header.a=${check.algorithm}`,
  );
  return Buffer.from(
    `Return-Path: <${message.mailFrom}>\r\n` +
      `Authentication-Results: ${message.hostname};\r\n ${verdicts.join(';\r\n ')}\r\n`,
  );
}
