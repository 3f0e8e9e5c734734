import type { SmtpReply } from './reply';

/**
 * What one delivery attempt means for the message. A closed vocabulary, like Haraka's
 * OK / DENYSOFT / DENY: every consumer of an outcome switches over these three.
 */
export type DeliveryOutcome =
  /** 2xx after DATA: the receiving server took responsibility for the message. */
  | { kind: 'delivered' }
  /** Try again later: a 4xx reply, or no reply at all (refused connection, timeout, DNS). */
  | { kind: 'deferred'; reason: string }
  /** Do not try again: a 5xx reply or a domain that accepts no mail. */
  | { kind: 'bounced'; reason: string; hard: boolean; confidence: number };

/**
 * One row of the permanent-failure table: an enhanced status prefix (RFC 3463), what it
 * means and whether the address itself is bad (hard) or only this message/moment (soft).
 */
export interface BounceRule {
  /** Matched against the enhanced code: `5.1.1` exactly, or `5.7.` as a prefix. */
  enhanced: string;
  reason: string;
  hard: boolean;
  confidence: number;
}

/**
 * Permanent failures by enhanced status code, most specific first. Data, not code (as
 * ZoneMTA's bounces.txt): issue 6 replaces this with the full classifier. Traps kept here:
 * a full mailbox or a policy/authentication refusal says nothing about the address, so it
 * must not get the recipient suppressed.
 */
export const BOUNCE_RULES: readonly BounceRule[] = [
  { enhanced: '5.1.1', reason: 'unknown_user', hard: true, confidence: 0.95 },
  { enhanced: '5.1.2', reason: 'bad_domain', hard: true, confidence: 0.9 },
  { enhanced: '5.1.10', reason: 'null_mx', hard: true, confidence: 0.95 },
  { enhanced: '5.2.1', reason: 'mailbox_disabled', hard: true, confidence: 0.8 },
  // RFC 3463 files 5.2.2 as persistent, but quotas are emptied: the address is still good.
  { enhanced: '5.2.2', reason: 'mailbox_full', hard: false, confidence: 0.8 },
  { enhanced: '5.3.4', reason: 'message_too_large', hard: false, confidence: 0.9 },
  { enhanced: '5.7.', reason: 'policy', hard: false, confidence: 0.7 },
  { enhanced: '5.4.', reason: 'routing', hard: false, confidence: 0.6 },
  { enhanced: '5.', reason: 'permanent_failure', hard: true, confidence: 0.6 },
];

/** What a 5xx without a usable enhanced code counts as: probably permanent, not sure why. */
const UNKNOWN_PERMANENT = { reason: 'permanent_failure', hard: true, confidence: 0.5 } as const;

/**
 * The seam between an SMTP reply and the message's fate. An absent reply code (socket
 * errors, timeouts, DNS failures) must stay deferrable: nothing was refused.
 */
export function classifyReply(reply: SmtpReply): DeliveryOutcome {
  const code = reply.code;
  if (code === undefined) return { kind: 'deferred', reason: 'no_reply' };
  if (code < 300) return { kind: 'delivered' };
  if (code < 500) {
    // 3xx after DATA is a protocol violation; retrying is the safe reading of it.
    return { kind: 'deferred', reason: deferReason(reply) };
  }
  const enhanced = reply.enhanced;
  const rule =
    enhanced === undefined
      ? undefined
      : BOUNCE_RULES.find((candidate) =>
          candidate.enhanced.endsWith('.')
            ? enhanced.startsWith(candidate.enhanced)
            : enhanced === candidate.enhanced,
        );
  const { reason, hard, confidence } = rule ?? UNKNOWN_PERMANENT;
  return { kind: 'bounced', reason, hard, confidence };
}

/** Transient reasons worth telling apart in dashboards; the rest is `temporary_failure`. */
const DEFER_REASONS: Readonly<Record<string, string>> = {
  '4.2.2': 'mailbox_full',
  '4.7.1': 'greylisted_or_policy',
  '4.7.0': 'throttled',
  '4.3.0': 'temporary_failure',
  '4.4.1': 'no_answer',
  '4.4.2': 'connection_dropped',
};

function deferReason(reply: SmtpReply): string {
  if (reply.code === 421) return 'throttled';
  return (
    (reply.enhanced === undefined ? undefined : DEFER_REASONS[reply.enhanced]) ??
    'temporary_failure'
  );
}
