import { createHmac, timingSafeEqual } from 'node:crypto';
import { RelaisError } from '@relais/domain';

/** An HMAC key as configured: raw bytes, or a string taken as UTF-8. At least 32 bytes. */
export type TokenSecret = string | Uint8Array;

/**
 * The keys a verifier accepts: the current one first, then retired ones still honoured
 * while the tokens they signed can arrive (a bounce weeks later, an old newsletter's link).
 */
export type TokenSecrets = TokenSecret | readonly TokenSecret[];

/** What a token is for; part of the MAC input, so a token minted for one use fails another. */
export type TokenPurpose = 'verp' | 'unsubscribe' | 'link';

const MIN_SECRET_BYTES = 32;

/**
 * Appends a truncated HMAC-SHA256 of `purpose` and `payload` to the payload. The payload
 * is not encrypted: put only ids in it, never an address.
 */
export function sealToken(
  purpose: TokenPurpose,
  payload: Uint8Array,
  secret: TokenSecret,
  macBytes: number,
): Buffer {
  return Buffer.concat([payload, mac(purpose, payload, secret, macBytes)]);
}

/**
 * Returns the payload of a sealed token when its MAC matches one of `secrets`, undefined
 * otherwise. The comparison is constant-time; the caller checks the length first.
 */
export function openToken(
  purpose: TokenPurpose,
  token: Uint8Array,
  macBytes: number,
  secrets: TokenSecrets,
): Buffer | undefined {
  if (token.length <= macBytes) return undefined;
  const payload = Buffer.from(token.subarray(0, token.length - macBytes));
  const given = token.subarray(token.length - macBytes);
  const keys = typeof secrets === 'string' || secrets instanceof Uint8Array ? [secrets] : secrets;
  if (keys.length === 0) throw refuse('no secret given');
  let matched = false;
  // Every key is tried even after a match, so the time taken says nothing about which one.
  for (const key of keys) {
    if (timingSafeEqual(mac(purpose, payload, key, macBytes), given)) matched = true;
  }
  return matched ? payload : undefined;
}

function mac(
  purpose: TokenPurpose,
  payload: Uint8Array,
  secret: TokenSecret,
  macBytes: number,
): Buffer {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (key.length < MIN_SECRET_BYTES) throw refuse(`secret shorter than ${MIN_SECRET_BYTES} bytes`);
  return createHmac('sha256', key)
    .update(purpose)
    .update('\0')
    .update(payload)
    .digest()
    .subarray(0, macBytes);
}

function refuse(message: string): RelaisError {
  return new RelaisError('CONFIG_INVALID', `token ${message}`);
}

/** The 16 bytes of a UUID in its canonical text form, or undefined if it is not one. */
export function uuidToBytes(uuid: string): Buffer | undefined {
  if (!UUID.test(uuid)) return undefined;
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

/** The canonical lowercase text form of 16 UUID bytes. */
export function bytesToUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
