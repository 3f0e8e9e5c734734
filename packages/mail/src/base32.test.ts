import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase32, encodeBase32 } from './base32';

describe('base32', () => {
  it('round-trips every length from 0 to 40 bytes', () => {
    for (let length = 0; length <= 40; length++) {
      const bytes = randomBytes(length);
      const text = encodeBase32(bytes);
      expect(text).toMatch(/^[a-z2-7]*$/);
      expect(decodeBase32(text)).toEqual(bytes);
    }
  });

  it('matches the RFC 4648 §10 vectors, lowercase and unpadded', () => {
    expect(encodeBase32(Buffer.from('foobar'))).toBe('mzxw6ytboi');
    expect(encodeBase32(Buffer.from('f'))).toBe('my');
  });

  it('decodes text an MTA upper-cased', () => {
    expect(decodeBase32('MZXW6YTBOI')?.toString()).toBe('foobar');
  });

  it('refuses characters outside the alphabet, impossible lengths and stray trailing bits', () => {
    expect(decodeBase32('mzxw6ytbo1')).toBeUndefined();
    expect(decodeBase32('m')).toBeUndefined();
    expect(decodeBase32('my')?.toString()).toBe('f');
    expect(decodeBase32('mz')).toBeUndefined();
  });
});
