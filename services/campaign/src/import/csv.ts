import { RelaisError } from '@relais/domain';
import { Parser, type CsvError } from 'csv-parse';
import { convertCell, parseHeader, type CsvColumn } from './csv-columns';
import {
  addTags,
  attributeCountProblem,
  IMPORT_LIMITS,
  parseEmail,
  TAG_SEPARATOR,
  valueLengthProblem,
  type RowProblem,
} from './limits';
import type { AttributeValue, FormatParser, RowSink } from './types';

/**
 * Past this many characters a record stops the import instead of being one rejected row.
 * It bounds memory when a quote is never closed (the rest of the file would become one
 * field), and csv-parse cannot resume after its size check fires, so it must be fatal.
 */
const FATAL_RECORD_CHARS = 4 * IMPORT_LIMITS.maxRowBytes;

const QUOTE_REASONS: Partial<Record<string, string>> = {
  INVALID_OPENING_QUOTE:
    'a quote inside an unquoted field (quote the whole field and double inner quotes)',
  CSV_INVALID_CLOSING_QUOTE: 'unexpected character after a closing quote',
  CSV_QUOTE_NOT_CLOSED: 'quoted field is not closed before the end of the input',
};

/**
 * Parses RFC 4180 CSV (BOM, CRLF or LF, quoted fields spanning lines) with a header row.
 * csv-parse runs synchronously inside `write` and hands each record to `on_record`, which
 * validates it and returns null: records never queue inside the stream, so the caller's loop
 * alone decides when to read more input (backpressure) and memory stays flat.
 */
export function createCsvParser(sink: RowSink): FormatParser {
  let columns: CsvColumn[] | undefined;
  let fatal: unknown;
  // csv-parse reports where a record ends; where it starts is one past the previous record's
  // end, plus the blank lines skipped in between.
  let previousEndLine = 0;
  let previousEmptyLines = 0;
  let previousBytes = 0;

  function startLine(emptyLines: number): number {
    return previousEndLine + 1 + (emptyLines - previousEmptyLines);
  }

  const parser = new Parser({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: FATAL_RECORD_CHARS,
    on_record: (record: string[], info) => {
      const line = startLine(info.empty_lines);
      const bytes = info.bytes - previousBytes;
      previousEndLine = info.lines;
      previousEmptyLines = info.empty_lines;
      previousBytes = info.bytes;
      try {
        if (columns === undefined) {
          columns = parseHeader(record);
          const problem = attributeCountProblem(
            columns.filter((column) => column.kind === 'attribute').length,
          );
          if (problem)
            throw new RelaisError('VALIDATION_FAILED', `invalid CSV header: ${problem.reason}`);
        } else {
          const problem = readRecord(record, columns, bytes, line, sink);
          if (problem) sink.reject({ line, ...problem });
        }
      } catch (error) {
        fatal ??= error;
        throw error;
      }
      return null;
    },
    on_skip: (error: CsvError | undefined) => {
      if (error === undefined) return undefined;
      const emptyLines = typeof error['empty_lines'] === 'number' ? error['empty_lines'] : 0;
      const line = startLine(emptyLines);
      previousEndLine = typeof error['lines'] === 'number' ? error['lines'] : previousEndLine;
      previousEmptyLines = emptyLines;
      if (error.code === 'CSV_MAX_RECORD_SIZE') {
        fatal ??= new RelaisError(
          'VALIDATION_FAILED',
          `the record starting at line ${line} is over ${FATAL_RECORD_CHARS} characters (a quote never closed?); the import stops there`,
          { details: { line } },
        );
        return undefined;
      }
      if (columns === undefined) {
        fatal ??= new RelaisError('VALIDATION_FAILED', `invalid CSV header: ${error.message}`);
        return undefined;
      }
      const column = typeof error['index'] === 'number' ? columns[error['index']] : undefined;
      sink.reject({
        line,
        reason: QUOTE_REASONS[error.code] ?? error.message,
        ...(column?.kind === 'attribute'
          ? { field: column.key }
          : column
            ? { field: column.kind }
            : {}),
      });
      return undefined;
    },
  });
  parser.on('error', (error) => {
    fatal ??= error;
  });

  function throwIfFatal(): void {
    if (fatal === undefined) return;
    if (fatal instanceof RelaisError) throw fatal;
    throw new RelaisError('VALIDATION_FAILED', 'CSV parsing failed', { cause: fatal });
  }

  return {
    write(chunk) {
      throwIfFatal();
      parser.write(chunk);
      throwIfFatal();
    },
    async end() {
      throwIfFatal();
      await new Promise<void>((resolve) => {
        parser.once('close', resolve);
        parser.once('error', () => resolve());
        parser.resume();
        parser.end();
      });
      throwIfFatal();
      if (columns === undefined) {
        throw new RelaisError(
          'VALIDATION_FAILED',
          'the input is empty: a CSV import needs a header row',
        );
      }
    },
  };
}

/** Validates one data record and hands it to the sink; returns the first problem instead. */
function readRecord(
  record: readonly string[],
  columns: readonly CsvColumn[],
  bytes: number,
  line: number,
  sink: RowSink,
): RowProblem | undefined {
  if (record.length !== columns.length) {
    return { reason: `row has ${record.length} fields, header has ${columns.length}` };
  }
  if (bytes > IMPORT_LIMITS.maxRowBytes) {
    return { reason: `row is ${bytes} bytes, limit is ${IMPORT_LIMITS.maxRowBytes}` };
  }
  const email = parseEmail(record[columns.findIndex((column) => column.kind === 'email')] ?? '');
  if (!email.ok) return email.problem;
  // A null prototype keeps a `__proto__` column an ordinary key.
  const attributes = Object.create(null) as Record<string, AttributeValue>;
  const tags: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    const cell = record[i]!;
    switch (column.kind) {
      case 'email':
        break;
      case 'tags': {
        if (cell === '') break;
        const problem = addTags(tags, cell.split(TAG_SEPARATOR));
        if (problem) return problem;
        break;
      }
      case 'attribute': {
        // An empty cell means "no value": it neither sets nor clears the attribute.
        if (cell === '') break;
        const tooLong = valueLengthProblem(column.key, cell);
        if (tooLong) return tooLong;
        const converted = convertCell(cell, column.type);
        if (!converted.ok) return { reason: converted.reason, field: column.key };
        attributes[column.key] = converted.value;
        break;
      }
    }
  }
  sink.accept({ email: email.email, domain: email.domain, attributes, tags }, line);
  return undefined;
}
