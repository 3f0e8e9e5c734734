import type { MessageId } from '@relais/domain';
import { RelaisError } from '@relais/domain';
import { decodeBase32, encodeBase32 } from './base32';
import type { TokenSecret, TokenSecrets } from './signed-token';
import { bytesToUuid, openToken, sealToken, uuidToBytes } from './signed-token';

/**
 * Token layout: version byte, the 16 bytes of the message id, 10 bytes (80 bits) of MAC.
 * 27 bytes are 44 base32 characters, so `b-<token>` is 46 octets: inside the 64 of an
 * RFC 5321 local part, with no room left for a tenant id (the message row names the tenant).
 */
const VERSION = 1;
const MAC_BYTES = 10;
const TOKEN_BYTES = 1 + 16 + MAC_BYTES;
const PREFIX = 'b-';

/** Where bounces for one message go. */
export interface VerpInput {
  messageId: MessageId | string;
  /** The domain whose MX receives bounces; also the SPF (MAIL FROM) domain. */
  bounceDomain: string;
  secret: TokenSecret;
}

/** What a bounce's recipient address says about the message it is about. */
export type VerpResult =
  /** A VERP address of ours with a valid MAC. */
  | { ok: true; messageId: MessageId }
  /**
   * Not usable: `unknown` is not a VERP address of ours at all (postmaster@, another
   * scheme), `malformed` has our prefix but not a decodable token, `forged` decodes but its
   * MAC does not match any secret (a guessed or tampered address: never trust its id).
   */
  | { ok: false; reason: 'unknown' | 'malformed' | 'forged' };

/**
 * The envelope sender (MAIL FROM, later the Return-Path) for one message: a bounce or a
 * delayed DSN names it as recipient, which identifies the message without parsing the DSN.
 * Lowercase base32 survives MTAs that lowercase local parts.
 */
export function verpAddress(input: VerpInput): string {
  const id = uuidToBytes(input.messageId);
  if (id === undefined) {
    throw new RelaisError('VALIDATION_FAILED', 'VERP needs a UUID message id');
  }
  const token = sealToken('verp', Buffer.concat([Buffer.of(VERSION), id]), input.secret, MAC_BYTES);
  return `${PREFIX}${encodeBase32(token)}@${input.bounceDomain.toLowerCase()}`;
}

/** Reads the message id back from a bounce's recipient address (any case). */
export function parseVerp(address: string, secrets: TokenSecrets): VerpResult {
  const at = address.lastIndexOf('@');
  const local = (at === -1 ? address : address.slice(0, at)).toLowerCase();
  if (!local.startsWith(PREFIX)) return { ok: false, reason: 'unknown' };
  const token = decodeBase32(local.slice(PREFIX.length));
  if (token?.length !== TOKEN_BYTES || token[0] !== VERSION) {
    return { ok: false, reason: 'malformed' };
  }
  const payload = openToken('verp', token, MAC_BYTES, secrets);
  if (payload === undefined) return { ok: false, reason: 'forged' };
  return { ok: true, messageId: bytesToUuid(payload.subarray(1)) as MessageId };
}
