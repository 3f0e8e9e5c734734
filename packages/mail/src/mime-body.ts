import { randomUUID } from 'node:crypto';
import { encode as encodeBase64, wrap as wrapBase64 } from 'nodemailer/lib/base64';
import { encode as encodeQp, wrap as wrapQp } from 'nodemailer/lib/qp';

/** A MIME entity: its own Content-* header lines (CRLF-joined) and its encoded body. */
export interface MimeEntity {
  headers: string;
  body: string;
}

/**
 * The body of a message with an HTML part, a text part or both (multipart/alternative,
 * text first: RFC 2046 §5.1.4 puts the preferred, richest part last).
 */
export function buildBody(html: string | undefined, text: string | undefined): MimeEntity {
  const textPart = text === undefined ? undefined : textEntity('plain', text);
  const htmlPart = html === undefined ? undefined : textEntity('html', html);
  if (textPart === undefined || htmlPart === undefined) {
    const only = textPart ?? htmlPart;
    if (only === undefined) throw new Error('buildBody needs html or text');
    return only;
  }
  // `=_` cannot occur in quoted-printable or base64 output, so no part can contain the
  // boundary whatever the content; the random rest keeps nested messages apart.
  const boundary = `=_${randomUUID().replaceAll('-', '')}`;
  return {
    headers: `Content-Type: multipart/alternative; boundary="${boundary}"`,
    body:
      `--${boundary}\r\n${textPart.headers}\r\n\r\n${textPart.body}\r\n` +
      `--${boundary}\r\n${htmlPart.headers}\r\n\r\n${htmlPart.body}\r\n` +
      `--${boundary}--\r\n`,
  };
}

function textEntity(subtype: 'plain' | 'html', content: string): MimeEntity {
  const bytes = Buffer.from(content.replace(/\r\n|\r|\n/g, '\r\n'), 'utf8');
  // Quoted-printable costs 3 octets per non-ASCII byte, base64 4/3 per byte: past one
  // non-ASCII byte in six (most CJK or Cyrillic text), base64 is the smaller.
  const base64 = countNonAscii(bytes) * 6 > bytes.length;
  const body = base64 ? wrapBase64(encodeBase64(bytes), 76) : wrapQp(encodeQp(bytes), 76);
  return {
    headers:
      `Content-Type: text/${subtype}; charset=utf-8\r\n` +
      `Content-Transfer-Encoding: ${base64 ? 'base64' : 'quoted-printable'}`,
    body,
  };
}

function countNonAscii(bytes: Uint8Array): number {
  let count = 0;
  for (const byte of bytes) if (byte > 0x7e) count++;
  return count;
}
