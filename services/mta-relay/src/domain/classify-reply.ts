import { classifySmtpReply, type BounceReason } from '@relais/bounces';
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
  /**
   * Do not try again: a 5xx reply or a domain that accepts no mail. Reason, hardness and
   * confidence are `@relais/bounces`' verdict, the same rules the bounce processor applies.
   */
  | { kind: 'bounced'; reason: BounceReason; hard: boolean; confidence: number };

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
  const { reason, hard, confidence } = classifySmtpReply(reply);
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
