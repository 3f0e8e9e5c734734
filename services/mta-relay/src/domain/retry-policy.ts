import { classifySmtpReply, type BounceReason, type SmtpReplyInput } from '@relais/bounces';
import type { SmtpReply } from './reply';

/** The SMTP step a reply answered, in `@relais/bounces`' vocabulary. */
export type SmtpCommand = NonNullable<SmtpReplyInput['command']>;

/**
 * Why a message was deferred, as far as the retry schedule cares. Each class has its own
 * delays: a greylisting server wants the same message back in minutes, a full mailbox
 * empties in hours, a throttling site is paced by its controller.
 */
export type DeferralClass =
  /** 4xx naming greylisting: the next try should come after the server's delay, minutes. */
  | 'greylisting'
  /** The site pushed back on rate or connections (421, 4.7.28, TSS04…): per the controller. */
  | 'rate_limited'
  /** Over quota: hours, not minutes. */
  | 'mailbox_full'
  /** No reply at all (refused, timeout, DNS): the host may be down for a while. */
  | 'no_connection'
  /** Any other temporary failure. */
  | 'other';

/** Delays by class, by deferral number (the last entry repeats), in milliseconds. */
export interface DeferralSchedules {
  greylisting: readonly number[];
  mailboxFull: readonly number[];
  noConnection: readonly number[];
  other: readonly number[];
  /** Bounds of a rate-limited message's delay, whatever the controller projects. */
  rateLimitedMinMs: number;
  rateLimitedMaxMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * RFC 5321 §4.5.4.1 asks for retries at least 30 minutes apart and giving up after 4–5 days;
 * greylisting (RFC 6647 §2.1: typical delays of 1–15 minutes) and rate limits are the known
 * exceptions where waiting less is what the receiver asks for.
 */
export const DEFAULT_DEFERRAL_SCHEDULES: DeferralSchedules = {
  greylisting: [2 * MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR],
  mailboxFull: [HOUR, 3 * HOUR, 6 * HOUR],
  noConnection: [5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR],
  other: [10 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR],
  rateLimitedMinMs: 1_000,
  rateLimitedMaxMs: 15 * MINUTE,
};

const GREYLISTING = /gr[ae]y-?list|\bgreylisted\b|please try again in \d+ (seconds|minutes)/i;

/** How a deferral is classified: its schedule class and `@relais/bounces`' reason. */
export interface DeferralVerdict {
  deferralClass: DeferralClass;
  reason: BounceReason;
}

/**
 * Classifies a 4xx (or code-less) reply with `@relais/bounces`, told which command it
 * answered; `throttled` is the site profile's own reading (421 or its throttling texts).
 */
export function classifyDeferral(
  reply: SmtpReply,
  command: SmtpCommand | undefined,
  throttled: boolean,
): DeferralVerdict {
  const { reason } = classifySmtpReply({ ...reply, command });
  if (throttled || reason === 'speeding' || reason === 'toomanyconn') {
    return { deferralClass: 'rate_limited', reason };
  }
  if (GREYLISTING.test(reply.text)) return { deferralClass: 'greylisting', reason };
  if (reason === 'mailboxfull') return { deferralClass: 'mailbox_full', reason };
  if (reply.code === undefined) return { deferralClass: 'no_connection', reason };
  return { deferralClass: 'other', reason };
}

/**
 * The delay before deferral number `deferral` (1-based) of a message is retried. A rate-limited
 * message comes back when its site's controller expects room for it, jittered so a cut does
 * not bring a whole batch back in the same instant.
 */
export function deferralDelayMs(
  deferralClass: DeferralClass,
  deferral: number,
  schedules: DeferralSchedules,
  controllerWaitMs: number,
  random: () => number = Math.random,
): number {
  const pick = (delays: readonly number[]) =>
    delays[Math.min(Math.max(deferral, 1), delays.length) - 1] ?? 0;
  switch (deferralClass) {
    case 'greylisting':
      return pick(schedules.greylisting);
    case 'mailbox_full':
      return pick(schedules.mailboxFull);
    case 'no_connection':
      return pick(schedules.noConnection);
    case 'other':
      return pick(schedules.other);
    case 'rate_limited': {
      const jittered = controllerWaitMs * (1 + random());
      return Math.round(
        Math.min(schedules.rateLimitedMaxMs, Math.max(schedules.rateLimitedMinMs, jittered)),
      );
    }
    default:
      return deferralClass satisfies never;
  }
}

/** True once a message has been trying for `maxAgeMs` since its first attempt. */
export function isPastMaxAge(firstAttemptAt: string, nowMs: number, maxAgeMs: number): boolean {
  const first = Date.parse(firstAttemptAt);
  return Number.isFinite(first) && nowMs - first >= maxAgeMs;
}
