import { RelaisError } from '@relais/domain';
import type { CopySource } from './port';

/**
 * Encoding of rows in PostgreSQL's COPY text format (tab-separated, `\N` for NULL,
 * backslash escapes), shared by both drivers. Rows are emitted in chunks so memory stays
 * bounded by the chunk size whatever the number of rows.
 */

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeText(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPES, (c) => ESCAPED[c] ?? c) : text;
}

/** One field in COPY text format. */
export function encodeCopyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  switch (typeof value) {
    case 'string':
      return escapeText(value);
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 't' : 'f';
    case 'object':
      if (value instanceof Date) return value.toISOString();
      // bytea hex form `\x…`; the backslash itself is escaped at the COPY level.
      if (value instanceof Uint8Array) return `\\\\x${Buffer.from(value).toString('hex')}`;
      return escapeText(JSON.stringify(value));
    default:
      throw new RelaisError('VALIDATION_FAILED', `cannot COPY a value of type ${typeof value}`);
  }
}

export function encodeCopyRow(row: readonly unknown[], width: number): string {
  if (row.length !== width) {
    throw new RelaisError('VALIDATION_FAILED', `COPY row has ${row.length} values for ${width} columns`);
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
  if (columns.length === 0) throw new RelaisError('VALIDATION_FAILED', 'COPY needs at least one column');
  return `COPY ${quoteQualified(table)} (${columns.map(quoteIdent).join(', ')}) FROM ${source}`;
}
