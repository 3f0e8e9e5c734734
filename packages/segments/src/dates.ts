import type { DateValue } from './rule';

const YEAR = '[1-9][0-9]{3}';
const MONTH_DAY =
  '((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))';
// Gregorian leap years from 1000 on: divisible by 4 but not by 100, or by 400.
const LEAP_DAY = '([1-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[13579][26])00)-02-29';
const TIME = '[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?';
// Real offsets stop at ±14:00; PostgreSQL refuses anything past ±15:59.
const OFFSET = '(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)';

/**
 * The ISO-8601 shapes a date attribute may take: `2026-01-05`, `2026-01-05T10:00`,
 * `2026-01-05 10:00:00.123+02:00`, `…Z`. It admits only real calendar days (no Feb 30, Feb 29
 * only in leap years), so every string it accepts casts to `timestamptz` without error. That is
 * what lets SQL test it before casting instead of trapping cast errors per row. The same text
 * runs as a JavaScript RegExp and a PostgreSQL ARE (it has no backslashes or quotes, so it also embeds as a plain SQL literal).
 */
export const ISO_DATE_PATTERN = `^(${YEAR}-${MONTH_DAY}|${LEAP_DAY})(${TIME}${OFFSET}?)?$`;

/**
 * `Date.prototype.toISOString` output between years 1000 and 9999. Month and day ranges are
 * checked loosely: a string of this shape compares as text, and only a hand-made impossible
 * day (Feb 30) would be compared instead of being refused as "not a date".
 */
export const CANONICAL_UTC_PATTERN =
  '^[1-9][0-9]{3}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9][.][0-9]{3}Z$';

/** Matches, on a string already accepted by ISO_DATE_PATTERN, one that carries a UTC offset. */
export const HAS_OFFSET_PATTERN = '[T ][0-9:.]+(Z|[+-][0-9:]+)$';

const isoDate = new RegExp(ISO_DATE_PATTERN);
const hasOffset = new RegExp(HAS_OFFSET_PATTERN);
const DAY_MS = 86_400_000;

export function isIsoDate(text: string): boolean {
  return isoDate.test(text);
}

/**
 * The instant a date value stands for, as a string PostgreSQL reads as `timestamptz`
 * regardless of the session time zone: a value without an offset is taken as UTC, the same
 * rule the compiled SQL applies to attribute values.
 */
export function resolveDateValue(value: DateValue, now: Date): string {
  if ('daysAgo' in value) return new Date(now.getTime() - value.daysAgo * DAY_MS).toISOString();
  return hasOffset.test(value.date)
    ? value.date
    : `${value.date}${value.date.length === 10 ? ' 00:00' : ''}+00:00`;
}
