// RFC 4648 §6 alphabet, lowercase and unpadded: VERP tokens live in address local parts,
// which some MTAs lowercase, so the encoding must survive a change of case.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const VALUES = new Int8Array(128).fill(-1);
for (let index = 0; index < ALPHABET.length; index++) {
  VALUES[ALPHABET.charCodeAt(index)] = index;
  VALUES[ALPHABET.toUpperCase().charCodeAt(index)] = index;
}

/** Encodes bytes as lowercase, unpadded base32. */
export function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >>> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes unpadded base32 in either case; undefined for a character outside the alphabet
 * or an encoding that is not the canonical one (non-zero trailing bits, impossible length),
 * so that one byte string has exactly one spelling up to case.
 */
export function decodeBase32(text: string): Buffer | undefined {
  const remainder = text.length % 8;
  if (remainder === 1 || remainder === 3 || remainder === 6) return undefined;
  const out = Buffer.allocUnsafe(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let length = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const value = code < 128 ? (VALUES[code] ?? -1) : -1;
    if (value < 0) return undefined;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[length++] = (buffer >>> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
