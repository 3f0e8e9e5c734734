import { HARD_REASONS, type BounceReason } from './reasons';
import type { SmtpCommand } from './report/commands';
import { STATUS_RULES, TEXT_RULES, type StatusRule, type TextRule } from './rules';

/** An SMTP reply as the `delivery.*` events carry it. */
export interface SmtpReplyInput {
  /** The basic reply code; absent when no reply was received. */
  code?: number | undefined;
  /** RFC 3463 enhanced status code, when the sender already split it off. */
  enhanced?: string | undefined;
  text: string;
  /** The SMTP command the reply answered, when known. */
  command?: SmtpCommand | undefined;
  /**
   * Where the reply comes from. A relay's own reply is always to a command it knows; a
   * delivery notice that does not name the command leaves open whether a "user unknown" came
   * at RCPT TO (the mailbox) or after DATA (a filter): read as the latter, like Sisimai does.
   */
  source?: 'smtp' | 'dsn';
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

const ECHOED_RECIPIENT = /<[^<>\s]+@[^<>\s]+>:\s/;

// Where a status code may stand: not inside an IP address or a version number.
const STATUS_IN_TEXT = /(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w.]*\d)/;

/**
 * Classifies a failure reply (4xx/5xx, or a reply without a code). Unmistakable wording (a
 * quota, a sending rate) decides first, then a specific enhanced status code, then any other
 * wording, then what the failing command implies, then a generic status code. Pure and total:
 * every reply gets a reason, `undefined` as the last resort.
 */
export function classifySmtpReply(reply: SmtpReplyInput): BounceClassification {
  const status = statusOf(reply);
  const statusRule = status === undefined ? undefined : findStatusRule(status);
  const textRule = findTextRule(reply.text);
  const command = reply.command ?? (reply.source === 'dsn' ? undefined : 'RCPT');
  let decided: { reason: BounceReason; confidence: number };
  if (textRule?.overridesStatus === true) decided = textRule;
  else if (statusRule?.strong === true) decided = statusRule;
  else if (textRule !== undefined) decided = afterFilter(textRule, reply.text, status, command);
  else if (statusRule !== undefined && statusRule.generic !== true) decided = statusRule;
  else decided = byCommand(command) ?? statusRule ?? UNRECOGNIZED;
  const reason = atCommand(decided.reason, command);
  return {
    reason,
    hard: isHard(reason, reply.code, status, reply.source),
    confidence: reason === decided.reason ? decided.confidence : decided.confidence * 0.8,
    ...(status === undefined ? {} : { status }),
  };
}

/**
 * A generic "no such user" that did not come at RCPT TO, without an address-status code
 * (5.1.x) to back it, is the recipient's filter speaking: the mailbox may well exist.
 */
function afterFilter(
  rule: TextRule,
  text: string,
  status: string | undefined,
  command: SmtpCommand | undefined,
): { reason: BounceReason; confidence: number } {
  if (rule.weak !== true || command === 'RCPT') return rule;
  if (status !== undefined && /^\d\.1\.[1-9]/.test(status)) return rule;
  // `550 <rcpt>: User unknown` in a notice with a status: the server named the recipient it
  // refused, which it does at RCPT TO; after DATA it has no single recipient to name.
  if (command === undefined && status !== undefined && ECHOED_RECIPIENT.test(text)) return rule;
  return { reason: 'filtered', confidence: rule.confidence * 0.8 };
}

/** What a refusal means when nothing but the command it answered says why. */
function byCommand(
  command: SmtpCommand | undefined,
): { reason: BounceReason; confidence: number } | undefined {
  switch (command) {
    case 'CONN':
    case 'HELO':
      return { reason: 'blocked', confidence: 0.5 };
    case 'MAIL':
      return { reason: 'rejected', confidence: 0.5 };
    case 'STARTTLS':
      return { reason: 'failedstarttls', confidence: 0.6 };
    case 'RCPT':
    case 'DATA':
    case undefined:
      return undefined;
  }
}

/**
 * Reasons about the recipient cannot be what a refusal before RCPT TO means: at MAIL FROM the
 * "unknown" address is our sender; at the greeting the server refused us, not anyone.
 */
function atCommand(reason: BounceReason, command: SmtpCommand | undefined): BounceReason {
  const aboutRecipient =
    reason === 'userunknown' ||
    reason === 'hostunknown' ||
    reason === 'filtered' ||
    reason === 'suspend' ||
    reason === 'mailboxfull';
  if (!aboutRecipient) return reason;
  if (command === 'MAIL') return 'rejected';
  if (command === 'CONN' || command === 'HELO') return 'blocked';
  return reason;
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

/**
 * Whether a reason condemns the address for this reply: a hard reason, and a reply that is
 * not temporary (a relay's reply must be a 5xx; a notice without codes reports a failure).
 */
export function isHard(
  reason: string,
  code: number | undefined,
  status: string | undefined,
  source: SmtpReplyInput['source'],
): boolean {
  if (!HARD_REASONS.has(reason as BounceReason)) return false;
  return source === 'dsn' ? !isTemporary(code, status) : isPermanent(code, status);
}

/**
 * A 5xx reply; without a basic code, a class-5 status. A relay's reply without a code is a
 * socket error or a timeout, which must stay deferrable.
 */
function isPermanent(code: number | undefined, status: string | undefined): boolean {
  if (code !== undefined) return code >= 500 && code < 600;
  return status?.startsWith('5.') ?? false;
}

/**
 * A 4xx reply, or a class-4 status without a basic code. A notice that gives neither still
 * reports a failure: a hard reason stays hard.
 */
function isTemporary(code: number | undefined, status: string | undefined): boolean {
  if (code !== undefined) return code >= 400 && code < 500;
  return status?.startsWith('4.') ?? false;
}
