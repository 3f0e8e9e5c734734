import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { byteSize, duration, parseByteSize, parseDuration, parseRate, rate } from './units';

describe('duration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['5min', 300_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['2d', 172_800_000],
    ['1.5s', 1_500],
    ['1500', 1_500],
    [1500, 1_500],
    [0, 0],
  ] as const)('parses %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
    expect(duration().parse(input)).toBe(ms);
  });

  it.each(['abc', '', '-5s', '5 minutes', '5x', 's', '1h30', '30s,', -1, Number.NaN])(
    'rejects %j with an example of what it expected',
    (input) => {
      const result = duration().safeParse(input);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/^expected a duration like 30s, 5m/);
    },
  );

  it('echoes the rejected value in the message', () => {
    const result = duration().safeParse('abc');
    expect(result.error?.issues[0]?.message).toContain("got 'abc'");
  });

  it('rejects values of the wrong type', () => {
    expect(duration().safeParse(true).error?.issues[0]?.message).toContain("got 'true'");
  });

  it('parses the prefault as input, so defaults read like config', () => {
    expect(z.object({ timeout: duration().prefault('30s') }).parse({})).toEqual({
      timeout: 30_000,
    });
  });
});

describe('rate', () => {
  it.each([
    ['100/s', 100],
    ['1,000/h', 1000 / 3600],
    ['50/min', 50 / 60],
    ['2000/d', 2000 / 86_400],
    ['12,000,000/day', 12_000_000 / 86_400],
    ['0.5/s', 0.5],
    ['60 / m', 1],
    ['10/hr', 10 / 3600],
  ] as const)('parses %s', (input, perSecond) => {
    expect(parseRate(input).perSecond).toBeCloseTo(perSecond, 10);
    expect(rate().parse(input).perSecond).toBeCloseTo(perSecond, 10);
  });

  it.each(['100', '1,00/s', '100/week', '/s', 'fast', '-1/s', '1.000/s/s'])(
    'rejects %j',
    (input) => {
      const result = rate().safeParse(input);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toBe(
        `expected a rate like 100/s, 50/min, 1,000/h or 2000/d, got '${input}'`,
      );
    },
  );

  it('rejects plain numbers: the unit of time must be explicit', () => {
    expect(rate().safeParse(100).success).toBe(false);
  });
});

describe('byteSize', () => {
  it.each([
    ['10MB', 10_000_000],
    ['512KiB', 524_288],
    ['1.5GB', 1_500_000_000],
    ['1MiB', 1_048_576],
    ['2 gib', 2 * 1024 ** 3],
    ['100B', 100],
    ['4096', 4096],
    [4096, 4096],
  ] as const)('parses %j as %d bytes', (input, bytes) => {
    expect(parseByteSize(input)).toBe(bytes);
    expect(byteSize().parse(input)).toBe(bytes);
  });

  it.each(['10XB', 'MB', 'ten megabytes', '-1MB', '', -5])('rejects %j', (input) => {
    const result = byteSize().safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/^expected a size like 512KiB, 10MB or 1.5GB/);
  });

  it('throws CONFIG_INVALID from the parse function', () => {
    expect(() => parseByteSize('huge')).toThrow(/expected a size like/);
  });
});
