import { describe, expect, it } from 'vitest';
import { encodeCopyRow, encodeCopyValue, quoteQualified } from '../src/copy-format';

describe('COPY text encoding', () => {
  it.each([
    [null, '\\N'],
    [undefined, '\\N'],
    ['plain', 'plain'],
    ['a\tb\nc\rd\\e', 'a\\tb\\nc\\rd\\\\e'],
    ['\\N', '\\\\N'],
    [42, '42'],
    [10n ** 20n, '100000000000000000000'],
    [true, 't'],
    [false, 'f'],
    [new Uint8Array([0, 255]), '\\\\x00ff'],
    [{ s: 'tab\there' }, '{"s":"tab\\\\there"}'],
    [[1, null], '[1,null]'],
  ])('encodes %s', (value, expected) => {
    expect(encodeCopyValue(value)).toBe(expected);
  });

  it('formats timestamps exactly like toISOString', () => {
    const samples = [
      0, -1, 1, 86_399_999, 1_700_000_000_123, -30_610_224_000_000, -30_610_224_000_001,
      253_402_300_799_999,
    ];
    for (let i = 0; i < 2000; i++) samples.push(Math.round((Math.random() - 0.3) * 4e12));
    for (const ms of samples)
      expect(encodeCopyValue(new Date(ms))).toBe(new Date(ms).toISOString());
  });

  it('refuses invalid dates, symbols and rows of the wrong width', () => {
    expect(() => encodeCopyValue(new Date(Number.NaN))).toThrow(/invalid Date/);
    expect(() => encodeCopyValue(Symbol('x'))).toThrow(/cannot COPY/);
    expect(() => encodeCopyRow([1], 2)).toThrow(/1 values for 2 columns/);
  });

  it('quotes schema-qualified names', () => {
    expect(quoteQualified('a.b"c')).toBe('"a"."b""c"');
  });
});
