import { RelaisError } from '@relais/domain';
import type { CopySource } from './port';

/**
 * Encoding of rows in PostgreSQL's COPY text format (tab-separated, `\N` for NULL,
 * backslash escapes), shared by both drivers. Rows are emitted in chunks so memory stays
 * bounded by the chunk size whatever the number of rows.
 */

const ESCAPES = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A char scan beats a regex test on the short strings bulk rows are made of. */
function escapeText(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // backslash, tab, newline, carriage return
    if (code === 92 || code === 9 || code === 10 || code === 13) {
      return text.replace(ESCAPES, (c) => ESCAPED[c] ?? c);
    }
  }
  return text;
}

const MS_PER_DAY = 86_400_000;
/** 1000-01-01 and 10000-01-01 UTC: the range where the day prefix is `YYYY-MM-DDT`. */
const FAST_MIN_MS = -30_610_224_000_000;
const FAST_MAX_MS = 253_402_300_800_000;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let cachedDay = Number.NaN;
let cachedDayPrefix = '';

/**
 * `Date#toISOString` costs over a microsecond on Node 20, the largest share of encoding a
 * narrow row. Bulk rows tend to share a day, so the date part is cached and only the time
 * of day is formatted; same output as toISOString.
 */
function formatTimestamp(date: Date): string {
  const ms = date.getTime();
  if (!(ms >= FAST_MIN_MS && ms < FAST_MAX_MS)) {
    if (Number.isNaN(ms)) throw new RelaisError('VALIDATION_FAILED', 'cannot COPY an invalid Date');
    return date.toISOString();
  }
  const day = Math.floor(ms / MS_PER_DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayPrefix = new Date(day * MS_PER_DAY).toISOString().slice(0, 11);
  }
  let rest = ms - day * MS_PER_DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  rest -= seconds * 1000;
  return `${cachedDayPrefix}${PAD2[hours]}:${PAD2[minutes]}:${PAD2[seconds]}.${PAD3[rest]}Z`;
}

/** One field in COPY text format. */
export function encodeCopyValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return '\\N';
    case 'string':
      return escapeText(value);
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 't' : 'f';
    case 'object':
      if (value === null) return '\\N';
      if (value instanceof Date) return formatTimestamp(value);
      // bytea hex form `\x…`; the backslash itself is escaped at the COPY level.
      if (value instanceof Uint8Array) return `\\\\x${Buffer.from(value).toString('hex')}`;
      return escapeText(JSON.stringify(value));
    case 'function':
    case 'symbol':
      throw new RelaisError('VALIDATION_FAILED', `cannot COPY a value of type ${typeof value}`);
  }
}

export function encodeCopyRow(row: readonly unknown[], width: number): string {
  if (row.length !== width) {
    throw new RelaisError(
      'VALIDATION_FAILED',
      `COPY row has ${row.length} values for ${width} columns`,
    );
  }
  let line = '';
  for (let i = 0; i < width; i++) {
    if (i > 0) line += '\t';
    line += encodeCopyValue(row[i]);
  }
  return `${line}\n`;
}

/** Default rows per chunk: large enough to amortize per-chunk costs, small enough for memory. */
export const COPY_CHUNK_ROWS = 10_000;

/** Yields the rows as COPY text, `chunkRows` rows per string. */
export async function* encodeCopyChunks(
  rows: CopySource,
  width: number,
  chunkRows = COPY_CHUNK_ROWS,
): AsyncGenerator<string> {
  let chunk: string[] = [];
  // `for await` over a sync iterable costs a microtask per row; avoid it on the hot path.
  if (Symbol.asyncIterator in rows) {
    for await (const row of rows) {
      chunk.push(encodeCopyRow(row, width));
      if (chunk.length >= chunkRows) {
        yield chunk.join('');
        chunk = [];
      }
    }
  } else {
    for (const row of rows) {
      chunk.push(encodeCopyRow(row, width));
      if (chunk.length >= chunkRows) {
        yield chunk.join('');
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk.join('');
}

/** Quotes a possibly schema-qualified name (`schema.table`) as identifiers. */
export function quoteQualified(name: string): string {
  return name
    .split('.')
    .map((part) => quoteIdent(part))
    .join('.');
}

export function quoteIdent(name: string): string {
  if (name.length === 0) throw new RelaisError('VALIDATION_FAILED', 'empty SQL identifier');
  return `"${name.replaceAll('"', '""')}"`;
}

export function copyStatement(table: string, columns: readonly string[], source: string): string {
  if (columns.length === 0)
    throw new RelaisError('VALIDATION_FAILED', 'COPY needs at least one column');
  return `COPY ${quoteQualified(table)} (${columns.map(quoteIdent).join(', ')}) FROM ${source}`;
}
