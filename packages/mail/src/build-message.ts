import type { MessageId } from '@relais/domain';
import { RelaisError } from '@relais/domain';
import type { Mailbox } from './header-safety';
import { checkAddress, encodeUnstructured, formatMailbox } from './header-safety';
import { buildBody } from './mime-body';
import type { TokenSecret } from './signed-token';
import { uuidToBytes } from './signed-token';
import { unsubscribeToken, unsubscribeUrl } from './unsubscribe';
import { verpAddress } from './verp';

/** The one-click unsubscribe of a bulk message (RFC 8058), or null for transactional mail. */
export interface UnsubscribeOptions {
  /** `https://host[/prefix]`; the link is `<baseUrl>/u/<token>`. */
  baseUrl: string;
  secret: TokenSecret;
  /** An address that unsubscribes by mail too; the token goes in the mailto subject. */
  mailto?: string | undefined;
}

/** Gmail's Feedback-ID fields, most specific first; each a token without colons. */
export interface FeedbackId {
  campaignId: string;
  tenantId: string;
  /** The mail stream, e.g. `bulk` or `transactional`. */
  mailClass: string;
  /** Gmail's SenderId: constant per sending platform or customer. */
  senderId: string;
}

/** Everything one rendered message needs to become RFC 5322 bytes. */
export interface BuildMessageInput {
  /** The message row's UUID: Message-ID, VERP and unsubscribe tokens are derived from it. */
  messageId: MessageId | string;
  from: Mailbox;
  to: Mailbox;
  replyTo?: Mailbox | undefined;
  subject: string;
  html?: string | undefined;
  text?: string | undefined;
  date: Date;
  /** Right-hand side of Message-ID; defaults to the From address's domain. */
  sendingDomain?: string | undefined;
  /** Bounces come back to a VERP address at this domain, signed with this secret. */
  bounce: { domain: string; secret: TokenSecret };
  unsubscribe: UnsubscribeOptions | null;
  feedbackId?: FeedbackId | undefined;
  /** Fixed headers from configuration (not personalization): refused, not cleaned, if unsafe. */
  headers?: Readonly<Record<string, string>> | undefined;
}

/** A built message and the SMTP envelope it is sent with. */
export interface BuiltMessage {
  /** The message, CRLF line endings, ready for DKIM signing. */
  raw: Buffer;
  /**
   * MAIL FROM: the VERP address. It is not written as a Return-Path header: the final
   * delivery MTA adds that from MAIL FROM, and a sender SHOULD NOT (RFC 5321 §4.4).
   */
  envelopeFrom: string;
  /** RCPT TO: the one recipient, as validated. */
  envelopeTo: string;
  /** The Message-ID header value, angle brackets included. */
  messageIdHeader: string;
  /** The one-click URL, or null when the message has none. */
  unsubscribeUrl: string | null;
}

// Fields relais writes itself, or that have no business in a submitted bulk message; a
// configured header of one of these names could duplicate or override them.
const RESERVED = new Set([
  'from',
  'sender',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'feedback-id',
  'return-path',
  'dkim-signature',
  'received',
]);
const FIELD_NAME = /^[!-9;-~]{1,76}$/;
const FIXED_VALUE = /^[\u0020-\u007e]{0,900}$/;
const FEEDBACK_PART = /^[A-Za-z0-9._-]{1,64}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/**
 * Builds one message. Values that personalization can reach (display names, subject) are
 * cleaned and encoded so they stay inside their own header; addresses must each be one
 * plain mailbox. Bodies are quoted-printable or base64 in lines of at most 76 characters.
 * The MIME structure is assembled here rather than by nodemailer's MailComposer, whose
 * stream pipeline built 8–17x fewer messages per second (packages/mail/README.md); the
 * encoders (quoted-printable, base64, RFC 2047 words) are nodemailer's.
 */
export function buildMessage(input: BuildMessageInput): BuiltMessage {
  if (uuidToBytes(input.messageId) === undefined) {
    throw new RelaisError('VALIDATION_FAILED', 'messageId must be a UUID');
  }
  if (input.html === undefined && input.text === undefined) {
    throw new RelaisError('VALIDATION_FAILED', 'a message needs an html or a text body');
  }
  const from = formatMailbox(input.from, 'from');
  const fromAddress = checkAddress(input.from.address, 'from');
  const envelopeTo = checkAddress(input.to.address, 'to');
  const sendingDomain = checkDomain(
    input.sendingDomain ?? fromAddress.slice(fromAddress.lastIndexOf('@') + 1),
    'sendingDomain',
  );
  const messageIdHeader = `<${input.messageId.toLowerCase()}@${sendingDomain}>`;
  const envelopeFrom = verpAddress({
    messageId: input.messageId,
    bounceDomain: checkDomain(input.bounce.domain, 'bounce.domain'),
    secret: input.bounce.secret,
  });

  const lines = [`From: ${from}`, `To: ${formatMailbox(input.to, 'to')}`];
  if (input.replyTo !== undefined)
    lines.push(`Reply-To: ${formatMailbox(input.replyTo, 'replyTo')}`);
  lines.push(
    `Subject: ${encodeUnstructured(input.subject, 'Subject'.length)}`,
    `Date: ${formatDate(input.date)}`,
    `Message-ID: ${messageIdHeader}`,
    'MIME-Version: 1.0',
  );
  let oneClick: string | null = null;
  if (input.unsubscribe !== null) {
    oneClick = unsubscribeUrl({ ...input.unsubscribe, messageId: input.messageId });
    lines.push(
      `List-Unsubscribe: ${listUnsubscribe(oneClick, input.unsubscribe, input.messageId)}`,
      // RFC 8058 §3.1: exactly this value, and the header must be covered by DKIM.
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    );
  }
  if (input.feedbackId !== undefined) lines.push(`Feedback-ID: ${feedbackId(input.feedbackId)}`);
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    lines.push(fixedHeader(name, value));
  }
  const body = buildBody(input.html, input.text);
  lines.push(body.headers);
  const raw = Buffer.from(
    `${lines.join('\r\n')}\r\n\r\n${body.body}${body.body.endsWith('\r\n') ? '' : '\r\n'}`,
    'utf8',
  );
  return { raw, envelopeFrom, envelopeTo, messageIdHeader, unsubscribeUrl: oneClick };
}

/** RFC 5322 §3.3 date-time in UTC, e.g. `Fri, 27 Nov 2026 04:27:12 +0000`. */
export function formatDate(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function listUnsubscribe(url: string, options: UnsubscribeOptions, messageId: string): string {
  if (options.mailto === undefined) return `<${url}>`;
  const address = checkAddress(options.mailto, 'unsubscribe.mailto');
  const token = unsubscribeToken({ messageId, secret: options.secret });
  return `<${url}>,\r\n <mailto:${address}?subject=unsubscribe-${token}>`;
}

/** The Feedback-ID value; shared with submitted messages, not part of the package API. */
export function feedbackId(parts: FeedbackId): string {
  const fields = [parts.campaignId, parts.tenantId, parts.mailClass, parts.senderId];
  for (const field of fields) {
    if (!FEEDBACK_PART.test(field)) {
      throw new RelaisError('VALIDATION_FAILED', 'Feedback-ID fields are tokens without colons');
    }
  }
  return fields.join(':');
}

function fixedHeader(name: string, value: string): string {
  if (!FIELD_NAME.test(name) || RESERVED.has(name.toLowerCase())) {
    throw new RelaisError('VALIDATION_FAILED', 'header name not allowed', { details: { name } });
  }
  if (!FIXED_VALUE.test(value)) {
    throw new RelaisError('VALIDATION_FAILED', 'header values are printable ASCII, ≤ 900 chars', {
      details: { name },
    });
  }
  return `${name}: ${value}`;
}

function checkDomain(domain: string, field: string): string {
  const lower = domain.toLowerCase();
  if (!DOMAIN.test(lower)) {
    throw new RelaisError('VALIDATION_FAILED', `${field} is not a domain name`, {
      details: { field },
    });
  }
  return lower;
}
