import { HARD_REASONS, type BounceReason } from './reasons';
import { STATUS_RULES, TEXT_RULES, type StatusRule, type TextRule } from './rules';

/** An SMTP reply as the `delivery.*` events carry it. */
export interface SmtpReplyInput {
  /** The basic reply code; absent when no reply was received. */
  code?: number | undefined;
  /** RFC 3463 enhanced status code, when the sender already split it off. */
  enhanced?: string | undefined;
  text: string;
}

/** What a failure reply means for the address. */
export interface BounceClassification {
  reason: BounceReason;
  /** The address itself is bad: suppress it. */
  hard: boolean;
  /** How sure the rule that decided is, 0..1. */
  confidence: number;
  /** The enhanced status code the classification saw (given, or found in the text). */
  status?: string;
}

/** What a reply no rule recognizes counts as. */
const UNRECOGNIZED = { reason: 'undefined', confidence: 0.3 } as const;

// Where a status code may stand: not inside an IP address or a version number.
const STATUS_IN_TEXT = /(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w.]*\d)/;

/**
 * Classifies a failure reply (4xx/5xx, or a reply without a code) by its enhanced status
 * code, falling back to the reply text when the code is absent or says little (5.0.0,
 * 5.5.0, 5.7.1). Pure and total: every reply gets a reason, `undefined` as the last resort.
 */
export function classifySmtpReply(reply: SmtpReplyInput): BounceClassification {
  const status = statusOf(reply);
  const statusRule = status === undefined ? undefined : findStatusRule(status);
  const textRule =
    statusRule === undefined || statusRule.generic === true ? findTextRule(reply.text) : undefined;
  const { reason, confidence } = textRule ?? statusRule ?? UNRECOGNIZED;
  return {
    reason,
    hard: HARD_REASONS.has(reason) && isPermanent(reply.code, status),
    confidence,
    ...(status === undefined ? {} : { status }),
  };
}

/**
 * The enhanced code given, or the first one in the text. One whose class contradicts the
 * basic code (`450 5.1.1`) is the server's typo: the basic code decides, so it is dropped.
 */
function statusOf(reply: SmtpReplyInput): string | undefined {
  const found = STATUS_IN_TEXT.exec(reply.text);
  const status = reply.enhanced ?? (found === null ? undefined : found.slice(1, 4).join('.'));
  if (status === undefined) return undefined;
  if (reply.code !== undefined && status[0] !== String(reply.code)[0]) return undefined;
  return status;
}

function findStatusRule(status: string): StatusRule | undefined {
  const subjectDetail = status.slice(status.indexOf('.') + 1);
  return (
    STATUS_RULES.find((rule) => rule.status === subjectDetail) ??
    STATUS_RULES.find((rule) => rule.status.endsWith('.') && subjectDetail.startsWith(rule.status))
  );
}

function findTextRule(text: string): TextRule | undefined {
  const normalized = text.toLowerCase().replace(/\s+/g, ' ');
  return TEXT_RULES.find((rule) => rule.pattern.test(normalized));
}

/** A 5xx reply; without a basic code (a DSN's status field), a class-5 status. */
function isPermanent(code: number | undefined, status: string | undefined): boolean {
  if (code !== undefined) return code >= 500 && code < 600;
  return status?.startsWith('5.') ?? false;
}
