import { RelaisError } from '@relais/domain';
import { keyProblem } from './limits';

/**
 * How a CSV cell becomes an attribute value. Cells are strings unless the header says
 * otherwise (`age:number`, `vip:boolean`, `signup_at:date`): a CSV cannot tell the zip code
 * `01234` from the number 1234, so guessing would corrupt one of them; a typed header makes
 * segment comparisons (`age > 30`, `signup_at` before a date) work on real numbers and dates.
 */
export type CellType = 'string' | 'number' | 'boolean' | 'date';

/** What one header cell means. */
export type CsvColumn =
  | { kind: 'email' }
  /** `;`- or `|`-separated tags. */
  | { kind: 'tags' }
  | { kind: 'attribute'; key: string; type: CellType };

const CELL_TYPES: ReadonlySet<string> = new Set<CellType>(['string', 'number', 'boolean', 'date']);

/**
 * Reads the header row. `email` and `tags` match case-insensitively; every other column is an
 * attribute named as written. Problems here are fatal (nothing could be imported), so they
 * throw VALIDATION_FAILED listing every problem at once.
 */
export function parseHeader(cells: readonly string[]): CsvColumn[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const columns = cells.map((cell, index): CsvColumn => {
    const text = cell.trim();
    const lower = text.toLowerCase();
    if (lower === 'email' || lower === 'tags') {
      if (seen.has(lower)) problems.push(`column "${lower}" appears twice`);
      seen.add(lower);
      return { kind: lower };
    }
    const colon = text.lastIndexOf(':');
    let key = text;
    let type: CellType = 'string';
    if (colon > 0) {
      const declared = text
        .slice(colon + 1)
        .trim()
        .toLowerCase();
      if (CELL_TYPES.has(declared)) {
        key = text.slice(0, colon).trim();
        type = declared as CellType;
      }
    }
    const problem = keyProblem(key);
    if (problem) problems.push(`column ${index + 1}: ${problem.reason}`);
    if (seen.has(key)) problems.push(`column "${key}" appears twice`);
    seen.add(key);
    return { kind: 'attribute', key, type };
  });
  if (!seen.has('email')) problems.push('the header has no "email" column');
  if (problems.length > 0) {
    throw new RelaisError('VALIDATION_FAILED', `invalid CSV header: ${problems.join('; ')}`);
  }
  return columns;
}

const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0']);
// Calendar date, optional time, optional offset; a value without offset is UTC (the same
// rule segmentation applies to date attributes).
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** A cell's value, or a reason it does not fit its column type. */
export function convertCell(
  text: string,
  type: CellType,
): { ok: true; value: string | number | boolean } | { ok: false; reason: string } {
  switch (type) {
    case 'string':
      return { ok: true, value: text };
    case 'number': {
      const trimmed = text.trim();
      const value = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(value)) return { ok: false, reason: 'not a number' };
      return { ok: true, value };
    }
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (TRUE.has(lower)) return { ok: true, value: true };
      if (FALSE.has(lower)) return { ok: true, value: false };
      return { ok: false, reason: 'not a boolean (true/false, yes/no, 1/0)' };
    }
    case 'date': {
      const value = parseIsoDate(text.trim());
      if (value === undefined) return { ok: false, reason: 'not an ISO-8601 date' };
      return { ok: true, value };
    }
  }
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 1 && leap ? 29 : DAYS_IN_MONTH[month]!;
}

/** The instant as `toISOString()`, or undefined for anything but a real calendar date. */
export function parseIsoDate(text: string): string | undefined {
  const match = ISO_DATE.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  const y = Number(year);
  const m = Number(month) - 1;
  const d = Number(day);
  // Date.UTC reads years 0-99 as 1900-1999: those are refused rather than shifted.
  if (y < 100 || m < 0 || m > 11 || d < 1 || d > daysInMonth(y, m)) return undefined;
  const h = Number(hour ?? 0);
  const min = Number(minute ?? 0);
  const s = Number(second ?? 0);
  if (h > 23 || min > 59 || s > 59) return undefined;
  // Already in toISOString form (what exports usually hold): building a Date would cost
  // more than the rest of the row.
  if (text.length === 24 && offset === 'Z' && text.charCodeAt(10) === 0x54) return text;
  const ms = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  let offsetMs = 0;
  if (offset !== undefined && offset !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || 0);
    if (oh > 14 || om > 59) return undefined;
    offsetMs = sign * (oh * 60 + om) * 60_000;
  }
  // toISOString() covers years 0000-9999 with the plain four-digit form.
  return new Date(Date.UTC(y, m, d, h, min, s, ms) - offsetMs).toISOString();
}
