import { RelaisError } from '@relais/domain';
import { z } from 'zod';

/**
 * Human quantities in config ("30s", "1,000/h", "10MB") are parsed once at load, so the
 * rest of the code only ever sees plain numbers whose unit is in the field name.
 */

const DURATION_UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const RATE_UNIT_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  m: 60,
  min: 60,
  minute: 60,
  h: 3_600,
  hr: 3_600,
  hour: 3_600,
  d: 86_400,
  day: 86_400,
};

// SI prefixes are powers of 1000 and IEC prefixes powers of 1024, as the standards say;
// "10MB" is 10,000,000 bytes. Write "10MiB" when you mean 10 × 1024².
const BYTE_UNIT: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const PLAIN_NUMBER = /^\d+(?:\.\d+)?$/;
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d)/y;
// Thousands separators are only accepted in groups of three so "1,00/s" is a typo, not 100.
const RATE = /^(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*\/\s*([a-z]+)$/i;
const BYTES = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i;

/** A rate, normalized to events per second whatever unit the config used. */
export interface Rate {
  perSecond: number;
}

/** "250ms", "30s", "5m", "1h30m", "2d", or a plain number of milliseconds → milliseconds. */
export function parseDuration(input: string | number): number {
  const ms = tryDuration(input);
  if (ms === undefined) throw invalid(durationProblem(input));
  return ms;
}

/** "100/s", "1,000/h", "50/min", "2000/d" → `{ perSecond }`. */
export function parseRate(input: string): Rate {
  const rate = tryRate(input);
  if (rate === undefined) throw invalid(rateProblem(input));
  return rate;
}

/** "10MB", "512KiB", "1.5GB", or a plain number of bytes → bytes. */
export function parseByteSize(input: string | number): number {
  const bytes = tryByteSize(input);
  if (bytes === undefined) throw invalid(byteSizeProblem(input));
  return bytes;
}

/** A zod type accepting a human duration; the parsed value is milliseconds. */
export function duration() {
  return z
    .union([z.string(), z.number()], { error: (issue) => durationProblem(issue.input) })
    .transform((input, ctx) => {
      const ms = tryDuration(input);
      if (ms !== undefined) return ms;
      ctx.addIssue({ code: 'custom', message: durationProblem(input) });
      return z.NEVER;
    });
}

/** A zod type accepting a human rate ("1,000/h"); the parsed value is `{ perSecond }`. */
export function rate() {
  return z.string({ error: (issue) => rateProblem(issue.input) }).transform((input, ctx) => {
    const parsed = tryRate(input);
    if (parsed !== undefined) return parsed;
    ctx.addIssue({ code: 'custom', message: rateProblem(input) });
    return z.NEVER;
  });
}

/** A zod type accepting a human byte size ("10MB", "512KiB"); the parsed value is bytes. */
export function byteSize() {
  return z
    .union([z.string(), z.number()], { error: (issue) => byteSizeProblem(issue.input) })
    .transform((input, ctx) => {
      const bytes = tryByteSize(input);
      if (bytes !== undefined) return bytes;
      ctx.addIssue({ code: 'custom', message: byteSizeProblem(input) });
      return z.NEVER;
    });
}

function tryDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return nonNegative(input);
  const text = input.trim();
  if (PLAIN_NUMBER.test(text)) return Number(text);
  if (text === '') return undefined;
  let total = 0;
  let index = 0;
  DURATION_PART.lastIndex = 0;
  while (index < text.length) {
    DURATION_PART.lastIndex = index;
    const match = DURATION_PART.exec(text);
    const unit = match?.[2] === undefined ? undefined : DURATION_UNIT_MS[match[2]];
    if (!match || unit === undefined) return undefined;
    total += Number(match[1]) * unit;
    index = DURATION_PART.lastIndex;
    while (text[index] === ' ') index++;
  }
  // Sub-millisecond precision is noise for timers; integers keep setTimeout honest.
  return Math.round(total);
}

function tryRate(input: string): Rate | undefined {
  const match = RATE.exec(input.trim());
  if (!match) return undefined;
  const [, whole = '', fraction = '', unitText = ''] = match;
  const seconds = RATE_UNIT_SECONDS[unitText.toLowerCase()];
  if (seconds === undefined) return undefined;
  return { perSecond: Number(whole.replaceAll(',', '') + fraction) / seconds };
}

function tryByteSize(input: string | number): number | undefined {
  if (typeof input === 'number') return nonNegative(input);
  const text = input.trim();
  if (PLAIN_NUMBER.test(text)) return Number(text);
  const match = BYTES.exec(text);
  const unit = match?.[2] === undefined ? undefined : BYTE_UNIT[match[2].toLowerCase()];
  if (!match || unit === undefined) return undefined;
  return Math.round(Number(match[1]) * unit);
}

function nonNegative(value: number): number | undefined {
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function durationProblem(input: unknown): string {
  return `expected a duration like 30s, 5m or 1h30m (plain numbers are milliseconds), got ${show(input)}`;
}

function rateProblem(input: unknown): string {
  return `expected a rate like 100/s, 50/min, 1,000/h or 2000/d, got ${show(input)}`;
}

function byteSizeProblem(input: unknown): string {
  return `expected a size like 512KiB, 10MB or 1.5GB (plain numbers are bytes), got ${show(input)}`;
}

/** How a rejected value is echoed in a problem: quoted, and short enough for one line. */
export function show(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  const short = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `'${short}'`;
}

function invalid(message: string): RelaisError {
  return new RelaisError('CONFIG_INVALID', message);
}
