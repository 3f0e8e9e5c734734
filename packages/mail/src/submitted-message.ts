import { RelaisError } from '@relais/domain';
import { feedbackId, formatDate, type FeedbackId } from './build-message';
import { checkAddress } from './header-safety';

/** A message another service submitted whole (SMTP DATA, or `raw` over HTTP/gRPC). */
export interface SubmittedMessageInput {
  /** RFC 5322 bytes, every line ending CRLF (the listener refused anything else). */
  raw: Buffer;
  /** The submission's UUID: the Message-ID when the message has none. */
  submissionId: string;
  /** Right-hand side of a Message-ID added here. */
  sendingDomain: string;
  /** Written as Feedback-ID, replacing any the submitter wrote. */
  feedbackId?: FeedbackId | undefined;
  /** The Date header when the message has none. */
  date: Date;
}

/** A submitted message made ready for signing, and what the caller reports of it. */
export interface PreparedSubmission {
  raw: Buffer;
  /** The Message-ID header value (the submitter's own, or the one added), with brackets. */
  messageIdHeader: string;
  /** The address of the one From mailbox. */
  fromAddress: string;
}

// Fields whose value relais owns on a submitted message: a Return-Path is the final MTA's to
// write (RFC 5321 §4.4), Bcc must not travel with the message, Feedback-ID is the platform's.
const STRIPPED = new Set(['return-path', 'bcc', 'feedback-id']);
// RFC 5322 §3.6: at most one of each.
const SINGLE = ['from', 'sender', 'to', 'cc', 'subject', 'date', 'message-id', 'reply-to'];
const FIELD = /^([!-9;-~]+)[ \t]*:/;
const MAX_LINE_OCTETS = 998;
const MAX_FIELDS = 500;

interface Field {
  name: string;
  /** The field's lines as received, CRLF-joined, without the final CRLF. */
  text: string;
}

/**
 * Checks and completes a message submitted whole: one From mailbox, at most one of each
 * single-instance field, no line over 998 octets (RFC 5322 §2.1.1); adds Message-ID and Date
 * when missing, writes Feedback-ID and drops Return-Path and Bcc. The body is untouched: DKIM
 * signs it as sent. Throws VALIDATION_FAILED with a reason a submitter can act on.
 */
export function prepareSubmittedMessage(input: SubmittedMessageInput): PreparedSubmission {
  const end = input.raw.indexOf('\r\n\r\n');
  if (end === -1) invalid('the message has no empty line between header and body');
  const fields = parseFields(input.raw.subarray(0, end + 2).toString('latin1'));
  const body = input.raw.subarray(end + 4);
  for (const line of body.toString('latin1').split('\r\n')) {
    if (line.length > MAX_LINE_OCTETS) invalid('a body line is longer than 998 octets');
  }
  for (const name of SINGLE) {
    if (fields.filter((field) => field.name === name).length > 1) {
      invalid(`the message has more than one ${name} field`);
    }
  }
  const from = fields.find((field) => field.name === 'from');
  if (from === undefined) invalid('the message has no From field');
  const fromAddress = checkAddress(mailboxOf(valueOf(from)), 'From');

  const kept = fields.filter((field) => !STRIPPED.has(field.name));
  const own = kept.find((field) => field.name === 'message-id');
  const messageIdHeader =
    own === undefined
      ? `<${input.submissionId.toLowerCase()}@${input.sendingDomain}>`
      : valueOf(own).trim();
  const added: string[] = [];
  if (own === undefined) added.push(`Message-ID: ${messageIdHeader}`);
  if (!kept.some((field) => field.name === 'date')) added.push(`Date: ${formatDate(input.date)}`);
  if (input.feedbackId !== undefined) added.push(`Feedback-ID: ${feedbackId(input.feedbackId)}`);
  const header = [...kept.map((field) => field.text), ...added].join('\r\n');
  return {
    raw: Buffer.concat([Buffer.from(`${header}\r\n\r\n`, 'latin1'), body]),
    messageIdHeader,
    fromAddress,
  };
}

function parseFields(header: string): Field[] {
  const fields: Field[] = [];
  for (const line of header.slice(0, -2).split('\r\n')) {
    if (line.length > MAX_LINE_OCTETS) invalid('a header line is longer than 998 octets');
    const last = fields[fields.length - 1];
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === undefined) invalid('the message starts with a continuation line');
      last.text += `\r\n${line}`;
      continue;
    }
    const match = FIELD.exec(line);
    if (match?.[1] === undefined) invalid('a header line is not a field (name: value)');
    fields.push({ name: match[1].toLowerCase(), text: line });
    if (fields.length > MAX_FIELDS) invalid('the message has too many header fields');
  }
  return fields;
}

function valueOf(field: Field): string {
  return field.text.slice(field.text.indexOf(':') + 1).replace(/\r\n[ \t]/g, ' ');
}

/** `Name <a@b>` or `a@b`; checkAddress refuses what is left if it is not one mailbox. */
function mailboxOf(value: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(value);
  return angle?.[1] ?? value.trim();
}

function invalid(message: string): never {
  throw new RelaisError('VALIDATION_FAILED', message);
}
