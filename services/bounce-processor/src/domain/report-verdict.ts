import {
  BOUNCE_REASONS,
  type BounceReason,
  type ParsedReport,
  type ReportVerdict,
} from '@relais/bounces';
import type { MessageId } from '@relais/domain';
import type { BounceRecord, BouncedMessage, SuppressionRequest } from '../ports';
import { hardBounceSuppression, MAX_DIAGNOSTIC_CHARS } from './bounce-verdict';

/** How the message a report is about was found. */
export type MessageLocator =
  /** The VERP address the report was sent to (sealed by the dispatcher). */
  | 'verp'
  /** The VERP Return-Path of the returned message, or the ARF Original-Mail-From. */
  | 'return-path'
  /** The Message-ID of the returned message (`<message uuid@sending domain>`). */
  | 'message-id';

/** A message id a report names, and where it was read. */
export interface MessageRef {
  messageId: MessageId;
  via: MessageLocator;
}

const OUR_MESSAGE_ID =
  /^\s*<?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@[^>\s]+>?\s*$/i;

/**
 * The messages a report may be about, most trustworthy first: the VERP recipient (its token
 * is sealed), the returned message's VERP Return-Path, then its Message-ID. A Message-ID is
 * not sealed, but it carries the message's random UUID, which only its recipient has seen.
 */
export function reportMessageRefs(
  recipientMessageId: MessageId | null,
  parsed: ParsedReport,
  openVerp: (address: string) => MessageId | undefined,
): MessageRef[] {
  const refs: MessageRef[] = [];
  const add = (messageId: MessageId | undefined, via: MessageLocator) => {
    if (messageId === undefined) return;
    if (refs.some((ref) => ref.messageId === messageId)) return;
    refs.push({ messageId, via });
  };
  add(recipientMessageId ?? undefined, 'verp');
  for (const address of [parsed.originalEnvelopeFrom, parsed.feedback?.originalMailFrom]) {
    const bare = address === undefined ? undefined : /[^<>\s]+@[^<>\s]+/.exec(address)?.[0];
    if (bare !== undefined) add(openVerp(bare), 'return-path');
  }
  const header = parsed.originalMessageId ?? parsed.originalHeaderFields?.['message-id'];
  const uuid = header === undefined ? undefined : OUR_MESSAGE_ID.exec(header)?.[1];
  add(uuid?.toLowerCase() as MessageId | undefined, 'message-id');
  return refs;
}

/** What a report asks for, once the message it is about is known (or not). */
export type ReportDecision =
  /** A bounce of our message: the row to record and, when hard, the suppression. */
  | { kind: 'bounce'; record: BounceRecord; suppression?: SuppressionRequest }
  /** A DSN whose recipients are only delayed (or delivered, relayed): a warning, not a bounce. */
  | { kind: 'delay_notice' }
  /** A complaint (ARF) about our message. */
  | { kind: 'complaint'; message: BouncedMessage; feedbackType: string; userAgent?: string }
  /** An auto-reply (RFC 3834): recorded as such, nothing else. */
  | { kind: 'autoreply' }
  /** A bounce or complaint that names no message of ours: nothing to act on. */
  | { kind: 'unmatched'; reason: string }
  /** Not a report the parser recognized, with its reason. */
  | { kind: 'other'; reason: string };

// DSN actions that do not report a failure (RFC 3464 §2.3.3).
const NOT_FAILED = new Set(['delayed', 'delivered', 'relayed', 'expanded']);

function bounceReason(reason: string): BounceReason {
  return (BOUNCE_REASONS as readonly string[]).includes(reason)
    ? (reason as BounceReason)
    : 'undefined';
}

/**
 * Decides what a parsed and classified report means for `message` (undefined when none of
 * its references found one). Pure: the caller looks the message up and writes the result.
 * A bounce is recorded under the report's id, so processing a report twice records once.
 */
export function decideReport(
  reportId: string,
  parsed: ParsedReport,
  verdict: ReportVerdict,
  message: BouncedMessage | undefined,
): ReportDecision {
  switch (parsed.kind) {
    case 'other':
      return { kind: 'other', reason: parsed.reason ?? 'not a delivery or feedback report' };
    case 'autoreply':
      return { kind: 'autoreply' };
    case 'feedback': {
      if (message === undefined) {
        return { kind: 'unmatched', reason: 'the complaint names no message of ours' };
      }
      const userAgent = parsed.feedback?.userAgent;
      return {
        kind: 'complaint',
        message,
        // RFC 5965 §3.1 makes Feedback-Type required; a report without one is still a complaint.
        feedbackType: parsed.feedback?.feedbackType ?? 'abuse',
        ...(userAgent === undefined ? {} : { userAgent }),
      };
    }
    case 'bounce':
      return decideBounce(reportId, parsed, verdict, message);
    default:
      return parsed.kind satisfies never;
  }
}

function decideBounce(
  reportId: string,
  parsed: ParsedReport,
  verdict: ReportVerdict,
  message: BouncedMessage | undefined,
): ReportDecision {
  if (message === undefined) {
    return { kind: 'unmatched', reason: 'the bounce names no message of ours' };
  }
  // classifyReport keeps the parser's recipient order.
  const failed = parsed.recipients
    .map((recipient, index) => ({ recipient, verdict: verdict.recipients[index] }))
    .filter((pair) => !NOT_FAILED.has(pair.recipient.action?.toLowerCase() ?? 'failed'));
  if (parsed.recipients.length > 0 && failed.length === 0) return { kind: 'delay_notice' };
  const email = message.email.toLowerCase();
  const chosen = failed.find((pair) => pair.recipient.address.toLowerCase() === email) ?? failed[0];
  const classified = chosen?.verdict;
  const record: BounceRecord = {
    id: reportId,
    tenantId: message.tenantId,
    messageId: message.id,
    campaignId: message.campaignId,
    email: message.email,
    source: 'dsn',
    // A bounce to our VERP address with no recipient the parser could read is still a
    // bounce of this message; its reason is unknown, so it stays soft.
    reason: bounceReason(classified?.reason ?? 'undefined'),
    hard: classified?.hard ?? false,
    confidence: classified?.confidence ?? 0,
    status: classified?.status ?? null,
    replyCode: classified?.replyCode ?? null,
    diagnostic: (chosen?.recipient.diagnostic ?? '').slice(0, MAX_DIAGNOSTIC_CHARS),
  };
  if (!record.hard) return { kind: 'bounce', record };
  return { kind: 'bounce', record, suppression: hardBounceSuppression(record, null) };
}
