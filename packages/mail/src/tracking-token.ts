import { createHash } from 'node:crypto';
import type { MessageId } from '@relais/domain';
import { RelaisError } from '@relais/domain';
import type { TokenSecret, TokenSecrets } from './signed-token';
import { bytesToUuid, openToken, sealToken, uuidToBytes } from './signed-token';

// version 1 | key id 1 | kind 1 | message id 16 | link key 8 | link index 1 | link count 1 |
// issued at (unix seconds) 4 | MAC 16 = 49 bytes, 66 base64url characters. The MAC is
// full strength (128 bits) like the unsubscribe tokens'; the payload holds ids only.
const VERSION = 1;
const MAC_BYTES = 16;
const PAYLOAD_BYTES = 1 + 1 + 1 + 16 + 8 + 1 + 1 + 4;
const TOKEN_BYTES = PAYLOAD_BYTES + MAC_BYTES;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{66}$/;
const KIND = { open: 0, click: 1 } as const;

/** Most links of one message that are rewritten; the rest stay direct. */
export const MAX_TRACKED_LINKS = 255;

/** What a tracking token stands for. */
export type TrackingKind = keyof typeof KIND;

/** The signed content of a tracking token. */
export interface TrackingClaims {
  kind: TrackingKind;
  messageId: MessageId;
  /**
   * `linkKeyOf(target)` for a click (zeros for an open): the campaign's link table maps it
   * to the target, so the URL carries no target and no address that a target might hold.
   */
  linkKey: string;
  /** 1-based position of the link in the HTML part; 0 for an open. */
  linkIndex: number;
  /** Links the message's HTML part has tracked; "every link clicked at once" needs it. */
  linkCount: number;
  /** When the message was rendered; tokens older than the configured lifetime are refused. */
  issuedAt: Date;
}

/** What a tracking token says, or why it is refused. */
export type TrackingTokenResult =
  | { ok: true; claims: TrackingClaims }
  /**
   * `malformed`: not a token of ours; `forged`: no configured key has its key id or its MAC
   * matches none; `expired`: signed by us but older than the lifetime.
   */
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

/**
 * One byte naming the key that signed a token, so a verifier holding several keys during a
 * rotation knows which one to check. It is derived from the key (not secret: 8 bits of a
 * hash reveal nothing usable) so no operator has to number keys.
 */
export function keyIdOf(secret: TokenSecret): number {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  return createHash('sha256').update('relais-key-id\0').update(key).digest()[0] ?? 0;
}

/** The 8-byte key of a link target in the campaign's link table, as 16 hex digits. */
export function linkKeyOf(target: string): string {
  return createHash('sha256').update(target).digest().subarray(0, 8).toString('hex');
}

/** Signs tracking claims with the current key (the first of a rotation). */
export function trackingToken(claims: TrackingClaims, secret: TokenSecret): string {
  const id = uuidToBytes(claims.messageId);
  if (id === undefined) {
    throw new RelaisError('VALIDATION_FAILED', 'tracking tokens need a UUID message id');
  }
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload[0] = VERSION;
  payload[1] = keyIdOf(secret);
  payload[2] = KIND[claims.kind];
  id.copy(payload, 3);
  Buffer.from(claims.linkKey.padStart(16, '0'), 'hex').copy(payload, 19);
  payload[27] = claims.linkIndex;
  payload[28] = claims.linkCount;
  payload.writeUInt32BE(Math.floor(claims.issuedAt.getTime() / 1000), 29);
  return sealToken('link', payload, secret, MAC_BYTES).toString('base64url');
}

/**
 * Checks a token from `/o/<token>.gif` or `/c/<token>`. Only keys whose key id matches are
 * tried; `maxAgeMs` bounds how old a link may be (a years-old newsletter link then shows
 * the expiry page instead of redirecting).
 */
export function verifyTrackingToken(
  token: string,
  secrets: TokenSecrets,
  options: { now: Date; maxAgeMs: number },
): TrackingTokenResult {
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
  const all = typeof secrets === 'string' || secrets instanceof Uint8Array ? [secrets] : secrets;
  const keys = all.filter((key) => keyIdOf(key) === bytes[1]);
  if (keys.length === 0) return { ok: false, reason: 'forged' };
  const payload = openToken('link', bytes, MAC_BYTES, keys);
  if (payload === undefined) return { ok: false, reason: 'forged' };
  const kind = payload[2] === KIND.click ? 'click' : payload[2] === KIND.open ? 'open' : undefined;
  if (kind === undefined) return { ok: false, reason: 'malformed' };
  const issuedAt = new Date(payload.readUInt32BE(29) * 1000);
  if (options.now.getTime() - issuedAt.getTime() > options.maxAgeMs) {
    return { ok: false, reason: 'expired' };
  }
  return {
    ok: true,
    claims: {
      kind,
      messageId: bytesToUuid(payload.subarray(3, 19)) as MessageId,
      linkKey: payload.subarray(19, 27).toString('hex'),
      linkIndex: payload[27] ?? 0,
      linkCount: payload[28] ?? 0,
      issuedAt,
    },
  };
}
