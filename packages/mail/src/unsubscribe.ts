import type { MessageId } from '@relais/domain';
import { RelaisError } from '@relais/domain';
import type { TokenSecret, TokenSecrets } from './signed-token';
import { bytesToUuid, openToken, sealToken, uuidToBytes } from './signed-token';

// Version byte, 16 bytes of message id, 16 bytes (128 bits) of MAC: a URL has room for a
// full-strength MAC, and the token is 44 base64url characters.
const VERSION = 1;
const MAC_BYTES = 16;
const TOKEN_BYTES = 1 + 16 + MAC_BYTES;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{44}$/;

/** Where one message's one-click unsubscribe link points. */
export interface UnsubscribeUrlInput {
  /** `https://host[/prefix]`; the token goes after `/u/`. */
  baseUrl: string;
  messageId: MessageId | string;
  secret: TokenSecret;
}

/** What an unsubscribe token says, or why it is refused. */
export type UnsubscribeTokenResult =
  /** A token we signed: the message it was sent in names tenant, campaign and contact. */
  | { ok: true; messageId: MessageId }
  /** `malformed` is not a token of ours; `forged` has a MAC no secret matches. */
  | { ok: false; reason: 'malformed' | 'forged' };

/**
 * The HTTPS URI of List-Unsubscribe (RFC 8058 §3.1 requires one). It carries only the
 * message id and a MAC: no address, so a forwarded or logged URL leaks nobody's email, and
 * nobody can unsubscribe someone else by editing it.
 */
export function unsubscribeUrl(input: UnsubscribeUrlInput): string {
  const base = new URL(input.baseUrl);
  if (base.protocol !== 'https:') {
    throw new RelaisError('VALIDATION_FAILED', 'the unsubscribe base URL must be https');
  }
  if (base.search !== '' || base.hash !== '' || base.username !== '' || base.password !== '') {
    throw new RelaisError(
      'VALIDATION_FAILED',
      'the unsubscribe base URL takes no query, fragment or credentials',
    );
  }
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}/u/${unsubscribeToken(input)}`;
}

/** The token alone, for links that carry it elsewhere (a mailto subject, a footer page). */
export function unsubscribeToken(input: Pick<UnsubscribeUrlInput, 'messageId' | 'secret'>): string {
  const id = uuidToBytes(input.messageId);
  if (id === undefined) {
    throw new RelaisError('VALIDATION_FAILED', 'unsubscribe tokens need a UUID message id');
  }
  const payload = Buffer.concat([Buffer.of(VERSION), id]);
  return sealToken('unsubscribe', payload, input.secret, MAC_BYTES).toString('base64url');
}

/** Checks a token taken from `/u/<token>`. */
export function verifyUnsubscribeToken(
  token: string,
  secrets: TokenSecrets,
): UnsubscribeTokenResult {
  if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed' };
  const bytes = Buffer.from(token, 'base64url');
  // Node's decoder ignores stray trailing bits; re-encoding rejects the non-canonical twins.
  if (
    bytes.length !== TOKEN_BYTES ||
    bytes.toString('base64url') !== token ||
    bytes[0] !== VERSION
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const payload = openToken('unsubscribe', bytes, MAC_BYTES, secrets);
  if (payload === undefined) return { ok: false, reason: 'forged' };
  return { ok: true, messageId: bytesToUuid(payload.subarray(1)) as MessageId };
}
