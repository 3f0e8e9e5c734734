import { HEADER_BREAKING_CHARS, normalizeEmail, RelaisError } from '@relais/domain';
import { encodeWord } from 'nodemailer/lib/mime-funcs';

/** A mailbox as callers give it; `name` may come from personalization data. */
export interface Mailbox {
  address: string;
  name?: string | undefined;
}

// None of the header-breaking characters has a place in a display name or a subject.
const CONTROLS = new RegExp(`[${HEADER_BREAKING_CHARS}]+`, 'g');
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/;
// RFC 5322 §3.2.3 atext plus the space between atoms.
const ATOMS = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?: [A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;
const MAX_NAME_CHARS = 200;
// RFC 5322 §2.1.1: 998 octets is the hard limit, 78 the recommended one.
const FOLD_AT = 78;
const MAX_PLAIN_WORD = 900;

/**
 * Makes personalization text fit for one header line: every run of control characters
 * becomes one space, lone surrogates become U+FFFD, surrounding space is trimmed. Stripping
 * rather than refusing: a stray newline in an imported first name is common and harmless
 * once it is a space, and failing the whole send for it would help nobody.
 */
export function cleanHeaderText(value: string): string {
  return value.replace(LONE_SURROGATE, '\ufffd').replace(CONTROLS, ' ').trim();
}

/**
 * An unstructured header value (Subject) as header text, folded with CRLF + space. Text
 * that is not printable ASCII, or that contains `=?`, is sent as RFC 2047 encoded-words in
 * full: a value that already looks like an encoded-word then decodes to its literal text,
 * never to what its base64 hides (`=?utf-8?b?DQpCY2M6…?=` stays those characters).
 */
export function encodeUnstructured(value: string, fieldNameLength: number): string {
  const text = cleanHeaderText(value);
  if (needsEncoding(text) || hasLongWord(text)) return encodeWords(text);
  return foldWords(text, fieldNameLength + 2);
}

/** `name <local@domain>` with the name made safe, or the bare address when there is none. */
export function formatMailbox(mailbox: Mailbox, field: string): string {
  const address = checkAddress(mailbox.address, field);
  const name = cleanHeaderText(mailbox.name ?? '')
    .slice(0, MAX_NAME_CHARS)
    .trim();
  if (name === '') return address;
  return `${encodePhrase(name)} <${address}>`;
}

/**
 * One address as `local@ascii-domain`, refused unless it is exactly one plain mailbox: no
 * display name, group, comma, semicolon, angle bracket, quote or whitespace can get
 * through, so one field cannot name a second recipient.
 */
export function checkAddress(address: string, field: string): string {
  const result = normalizeEmail(address);
  // `=?` is legal atext, but a decoder that wrongly decodes encoded-words inside an
  // addr-spec (RFC 2047 §5 forbids them there) could read a second address out of it.
  const problem = !result.ok
    ? result.reason
    : address.trim() !== address
      ? 'surrounding whitespace'
      : address.includes('=?')
        ? 'looks like an encoded-word'
        : undefined;
  if (!result.ok || problem !== undefined) {
    throw new RelaisError('VALIDATION_FAILED', `${field} is not a single valid address`, {
      details: { field, reason: problem ?? null },
    });
  }
  return `${result.local}@${result.domain}`;
}

function encodePhrase(name: string): string {
  if (needsEncoding(name)) return encodeWords(name);
  if (ATOMS.test(name)) return name;
  // Quoted-string (RFC 5322 §3.2.4): commas, dots, `@` and `<` are text inside it.
  return `"${name.replace(/[\\"]/g, '\\$&')}"`;
}

function needsEncoding(text: string): boolean {
  return !PRINTABLE_ASCII.test(text) || text.includes('=?');
}

function hasLongWord(text: string): boolean {
  if (text.length <= MAX_PLAIN_WORD) return false;
  return text.split(' ').some((word) => word.length > MAX_PLAIN_WORD);
}

// Encoded-words of at most 75 characters (RFC 2047 §2), one per folded line; the space
// between adjacent encoded-words is dropped when decoding (§6.2), so splitting is lossless.
function encodeWords(text: string): string {
  return encodeWord(text, 'B', 75).split('?= =?').join('?=\r\n =?');
}

function foldWords(text: string, firstLineUsed: number): string {
  if (text.length + firstLineUsed <= FOLD_AT) return text;
  const [first = '', ...rest] = text.split(' ');
  let out = first;
  let lineLength = firstLineUsed + first.length;
  // A folded line must not be whitespace only (RFC 5322 §3.2.2): a fold goes only before
  // a word, never before the empty words of a run of spaces, and only after some text.
  let lineHasText = first !== '';
  for (const word of rest) {
    if (word !== '' && lineHasText && lineLength + 1 + word.length > FOLD_AT) {
      out += '\r\n';
      lineLength = 0;
    }
    out += ` ${word}`;
    lineLength += 1 + word.length;
    if (word !== '') lineHasText = true;
  }
  return out;
}
