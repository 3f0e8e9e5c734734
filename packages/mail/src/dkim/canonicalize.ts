import { RelaisError } from '@relais/domain';

/** One header field as it stands in the message: its name and its full text, folds included. */
export interface HeaderField {
  /** Lowercase field name. */
  key: string;
  /** `Name: value` with any CRLF folds, without the final CRLF. */
  text: string;
}

/** A message split at its first empty line. */
export interface SplitMessage {
  /** Fields in message order. */
  fields: HeaderField[];
  body: Buffer;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Splits a message into header fields and body. Refuses bare CR or LF anywhere: an SMTP
 * client turns them into CRLF on the wire, which would change what was signed.
 */
export function splitMessage(raw: Buffer): SplitMessage {
  for (let index = 0; index < raw.length; index++) {
    const byte = raw[index];
    if (byte === CR ? raw[index + 1] !== LF : byte === LF && raw[index - 1] !== CR) {
      throw new RelaisError('VALIDATION_FAILED', 'message has a bare CR or LF', {
        details: { offset: index },
      });
    }
  }
  const end = raw.indexOf('\r\n\r\n');
  const headerText = raw.toString('latin1', 0, end === -1 ? raw.length : end);
  const body = end === -1 ? Buffer.alloc(0) : raw.subarray(end + 4);
  const fields: HeaderField[] = [];
  for (const line of headerText.split('\r\n')) {
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      last.text += `\r\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new RelaisError('VALIDATION_FAILED', 'message has a header line without a field name');
    }
    fields.push({ key: line.slice(0, colon).trimEnd().toLowerCase(), text: line });
  }
  return { fields, body };
}

/**
 * RFC 6376 §3.4.2 relaxed header canonicalization of one field, without the trailing CRLF:
 * lowercase name, unfolded, runs of WSP as one space, none at the ends or around the colon.
 */
export function relaxedHeader(text: string): string {
  const colon = text.indexOf(':');
  const name = text.slice(0, colon).trimEnd().toLowerCase();
  const value = text
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${name}:${value}`;
}

/**
 * RFC 6376 §3.4.4 relaxed body canonicalization: WSP runs become one space, WSP at line
 * ends goes, empty lines at the end go, and a non-empty body ends with exactly one CRLF.
 * Latin-1 maps bytes to code units one to one, so the regexes never split a UTF-8 sequence.
 */
export function relaxedBody(body: Buffer): Buffer {
  let text = body
    .toString('latin1')
    .replace(/[ \t]+/g, ' ')
    .replace(/ \r\n/g, '\r\n');
  let end = text.length;
  if (text.endsWith(' ')) end--;
  while (end >= 2 && text.charCodeAt(end - 1) === LF && text.charCodeAt(end - 2) === CR) end -= 2;
  text = text.slice(0, end);
  return Buffer.from(text.length === 0 ? '' : `${text}\r\n`, 'latin1');
}
