import { describe, expect, it } from 'vitest';
import { csvField, plainNumber, toCsv } from './csv';

describe('CSV', () => {
  it('writes a header, CRLF lines and quotes only where RFC 4180 needs it', () => {
    expect(
      toCsv(
        ['variant', 'hour', 'sent'],
        [
          ['A', new Date('2026-11-27T09:00:00.000Z'), 3],
          ['spring, "big" sale', null, 0],
          ['two\nlines', undefined, 12],
        ],
      ),
    ).toBe(
      'variant,hour,sent\r\n' +
        'A,2026-11-27T09:00:00.000Z,3\r\n' +
        '"spring, ""big"" sale",,0\r\n' +
        '"two\nlines",,12\r\n',
    );
  });

  it('writes numbers plainly: no exponent, no float noise', () => {
    expect(plainNumber(1e-7)).toBe('0.0000001');
    expect(plainNumber(0.1 + 0.2)).toBe('0.3');
    expect(plainNumber(19.75)).toBe('19.75');
    expect(plainNumber(1e21)).toBe('1000000000000000000000');
    expect(plainNumber(Number.NaN)).toBe('');
  });

  it('defuses text a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-1')).toBe("'-1");
    expect(csvField(-1)).toBe('-1');
  });
});
