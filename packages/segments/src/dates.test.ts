import { describe, expect, it } from 'vitest';
import { HAS_OFFSET_PATTERN, ISO_DATE_PATTERN, isIsoDate, resolveDateValue } from './dates';

describe('ISO_DATE_PATTERN', () => {
  it.each([
    '2026-01-05',
    '2026-01-05T10:00',
    '2026-01-05T10:00:00Z',
    '2026-01-05 10:00:00',
    '2026-01-05T10:00:00.123456+02:00',
    '2026-01-05T10:00:00-0530',
    '2026-01-05T10:00:00+14',
    '2024-02-29',
    '2000-02-29',
    '2026-12-31T23:59:59.999999999Z',
  ])('accepts %s', (text) => {
    expect(isIsoDate(text)).toBe(true);
  });

  it.each([
    '2026-02-30',
    '2025-02-29',
    '1900-02-29',
    '2026-04-31',
    '2026-13-01',
    '2026-00-10',
    '0999-01-01',
    '2026-01-05T24:00',
    '2026-01-05T10:60',
    '2026-01-05T23:59:60Z',
    '2026-01-05T10:00:00+15:00',
    '2026-01-05Z',
    '2026-1-5',
    '20260105',
    '1/5/2026',
    'yesterday',
    ' 2026-01-05',
    '2026-01-05\n',
  ])('refuses %j', (text) => {
    expect(isIsoDate(text)).toBe(false);
  });

  it('embeds in SQL as a plain literal', () => {
    for (const pattern of [ISO_DATE_PATTERN, HAS_OFFSET_PATTERN]) {
      expect(pattern).not.toMatch(/['\\]/);
    }
  });
});

describe('resolveDateValue', () => {
  const now = new Date('2026-01-10T12:00:00Z');

  it('counts daysAgo back from the injected now', () => {
    expect(resolveDateValue({ daysAgo: 30 }, now)).toBe('2025-12-11T12:00:00.000Z');
    expect(resolveDateValue({ daysAgo: 0 }, now)).toBe('2026-01-10T12:00:00.000Z');
  });

  it('reads a date without an offset as UTC', () => {
    expect(resolveDateValue({ date: '2026-01-05' }, now)).toBe('2026-01-05 00:00+00:00');
    expect(resolveDateValue({ date: '2026-01-05T10:00' }, now)).toBe('2026-01-05T10:00+00:00');
  });

  it('keeps an explicit offset', () => {
    expect(resolveDateValue({ date: '2026-01-05T10:00:00-05:00' }, now)).toBe(
      '2026-01-05T10:00:00-05:00',
    );
    expect(resolveDateValue({ date: '2026-01-05T10:00:00Z' }, now)).toBe('2026-01-05T10:00:00Z');
  });
});
