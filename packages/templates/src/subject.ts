import { HEADER_BREAKING_CHARS as BREAKING } from '@relais/domain';

// None of the header-breaking characters may survive into a Subject. A run of them, with the
// spaces around it, becomes one space.
const LINE_BREAKS = new RegExp(` *[${BREAKING}][ ${BREAKING}]*`, 'g');

// An RFC 2047 encoded word (`=?charset?B|Q?text?=`) that reaches the header unencoded is decoded
// by the recipient's client, so data could smuggle in arbitrary (even multi-line) display text.
// Breaking the `=?` opener leaves the text readable and undecodable. The pattern is lenient
// (spaces inside the text) because some decoders are.
const ENCODED_WORD = /=\?([^?\s]+\?[bq]\?[^?]*\?=)/gi;

/**
 * Makes a rendered subject safe to place in a header: one line, no control characters, no
 * encoded words, no surrounding whitespace. The mail layer still encodes and folds it.
 */
export function sanitizeSubject(subject: string): string {
  return subject.replace(LINE_BREAKS, ' ').replace(ENCODED_WORD, '= ?$1').trim();
}
