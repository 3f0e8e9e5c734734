import type { MessageData } from '@relais/domain';

/** An SMTP reply as carried by `delivery.*` events; `code` is absent when none was received. */
export type SmtpReply = NonNullable<MessageData<'delivery.delivered'>['reply']>;

/** The events' schema caps reply text; longer multi-line replies are cut here. */
export const MAX_REPLY_TEXT = 2000;

const LEADING_ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})\s/;
const REPLY_LINE = /^([2-5]\d\d)[ -](?:([245]\.\d{1,3}\.\d{1,3})\s+)?/;

/**
 * Splits a server's reply line (`550 5.1.1 the email account does not exist`) into its
 * parts. `fallbackCode` is the client library's own idea of the code, used when the text
 * does not start with one. Text without a code stays a reply without code: deferrable.
 */
export function parseReply(text: string, fallbackCode?: number): SmtpReply {
  const line = text.trim();
  const match = REPLY_LINE.exec(line);
  const parsedCode = match?.[1] === undefined ? undefined : Number(match[1]);
  const code = parsedCode ?? validCode(fallbackCode);
  // Only where RFC 3463 puts it (first word after the code): an IP address in an error
  // message (`10.2.0.1`) must not pass for a status code.
  const enhanced =
    match?.[2] ?? (code === undefined ? undefined : LEADING_ENHANCED.exec(line)?.[1]);
  return {
    ...(code === undefined ? {} : { code }),
    // An enhanced code whose class disagrees with the basic code is the server's typo; the
    // basic code decides, so the enhanced one is dropped rather than trusted.
    ...(enhanced === undefined || (code !== undefined && enhanced[0] !== String(code)[0])
      ? {}
      : { enhanced }),
    text: line.slice(0, MAX_REPLY_TEXT),
  };
}

function validCode(code: number | undefined): number | undefined {
  return code !== undefined && Number.isInteger(code) && code >= 200 && code <= 599
    ? code
    : undefined;
}
