import { RelaisError } from '@relais/domain';

/**
 * Message ids of one resolution are UUIDv7 (RFC 9562 §5.7) with a dedicated counter (§6.2,
 * method 1): 48-bit Unix milliseconds, version, 42 random bits shared by the resolution,
 * variant, then a 32-bit counter the SQL fills in contact order. Ids that rise in insertion
 * order append to the right edge of the primary key instead of landing on random leaf pages
 * (half the cost of a million-row resolution), and cost no per-row random generation. The
 * random bits keep two resolutions in the same millisecond apart.
 */

/** The counter's hex digits: a resolution holds at most 2^32 recipients. */
export const MESSAGE_ID_COUNTER_DIGITS = 8;

/**
 * The first 24 hex digits of every message id of one resolution; the SQL appends the row's
 * counter as 8 more. `random` supplies the 42 random bits (at least 6 bytes).
 */
export function messageIdPrefix(at: Date, random: Uint8Array): string {
  const ms = at.getTime();
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= 2 ** 48) {
    throw new RelaisError('INTERNAL', 'a UUIDv7 timestamp must fit 48 bits of milliseconds');
  }
  if (random.length < 6) throw new RelaisError('INTERNAL', 'need 6 random bytes');
  const bytes = new Uint8Array(12);
  for (let i = 0; i < 6; i++) bytes[i] = Math.floor(ms / 2 ** (8 * (5 - i))) % 256;
  bytes[6] = 0x70 | (random[0]! & 0x0f);
  bytes[7] = random[1]!;
  bytes[8] = 0x80 | (random[2]! & 0x3f);
  bytes.set(random.subarray(3, 6), 9);
  return Buffer.from(bytes).toString('hex');
}

/** A message id from a prefix and a counter, as the resolution SQL builds it. */
export function messageIdOf(prefix: string, counter: number): string {
  const hex = prefix + counter.toString(16).padStart(MESSAGE_ID_COUNTER_DIGITS, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
