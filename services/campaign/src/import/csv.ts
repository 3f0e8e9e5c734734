import { StringDecoder } from 'node:string_decoder';
import { RelaisError } from '@relais/domain';
import Papa from 'papaparse';
import { checkRecord, detectNewline, type Newline, type RecordCheck } from './csv-record';
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
 * Past this many characters a pending record stops the import instead of being one rejected
 * row. It bounds memory when a quote is never closed (the rest of the file would become one
 * field, held until its end), so it must be fatal.
 */
const FATAL_RECORD_CHARS = 4 * IMPORT_LIMITS.maxRowBytes;
/** A UTF-16 unit is at most 3 UTF-8 bytes: shorter records need no byte count. */
const MAX_BYTES_PER_CHAR = 3;

/**
 * Parses RFC 4180 CSV (BOM, CRLF, LF or CR, quoted fields spanning lines) with a header row.
 *
 * papaparse's low-level `Parser` does the splitting (about ten times faster than csv-parse
 * here): each `write` decodes the bytes and parses every complete record of the pending text
 * synchronously, handing each to the sink, so records never queue and the caller's loop alone
 * decides when to read more input (backpressure). Only the incomplete last record is kept.
 *
 * What papaparse does not do is done here:
 * - line numbers: the record's text is known (papaparse reports where each ends), so the line
 *   where the next one starts is this one's plus the line breaks inside it, blank lines
 *   included;
 * - strict quotes: papaparse takes a quote inside an unquoted field as text and, after a bad
 *   closing quote, reads on to the next quote (possibly many lines on). A record holding a
 *   quote is therefore checked by `checkRecord`; a bad one is rejected up to the end of the
 *   line where its problem is, and parsing resumes there, as csv-parse did;
 * - the size bound: papaparse would keep an unclosed quote's field growing to the end of the
 *   input, so a pending record over FATAL_RECORD_CHARS stops the import.
 */
export function createCsvParser(sink: RowSink): FormatParser {
  const decoder = new StringDecoder('utf8');
  let columns: CsvColumn[] | undefined;
  let fatal: RelaisError | undefined;
  let newline: Newline | undefined;
  let started = false;
  /** Text not parsed yet: the start of the next record onwards. */
  let text = '';
  /** Where the next record starts in `text`, and its line. */
  let pos = 0;
  let line = 1;
  // Where the next line break and quote are in `text`, found lazily (-1: none).
  let breakChar = '\n';
  let nextBreak = -1;
  let nextQuote = -1;
  /** Pending text left by the last parse; it is parsed again only once it has doubled. */
  let pendingAfterParse = 0;
  let papa: Papa.Parser | undefined;
  let resumeAt = -1;
  let final = false;

  /** Moves to `to`, counting the line breaks passed. */
  function advance(to: number): void {
    if (nextBreak !== -1 && nextBreak < pos) nextBreak = text.indexOf(breakChar, pos);
    while (nextBreak !== -1 && nextBreak < to) {
      line++;
      nextBreak = text.indexOf(breakChar, nextBreak + 1);
    }
    pos = to;
  }

  function hasQuote(start: number, end: number): boolean {
    if (nextQuote !== -1 && nextQuote < start) nextQuote = text.indexOf('"', start);
    return nextQuote !== -1 && nextQuote < end;
  }

  function problemOf(check: Extract<RecordCheck, { kind: 'problem' }>): RowProblem {
    const column = columns?.[check.field];
    return {
      reason: check.reason,
      ...(column?.kind === 'attribute'
        ? { field: column.key }
        : column
          ? { field: column.kind }
          : {}),
    };
  }

  function reject(problem: RowProblem, at: number): void {
    if (columns === undefined) {
      fatal ??= new RelaisError('VALIDATION_FAILED', `invalid CSV header: ${problem.reason}`);
    } else {
      sink.reject({ line: at, ...problem });
    }
  }

  function onRecord(fields: string[], end: number): void {
    const start = pos;
    const at = line;
    if (hasQuote(start, end)) {
      const check = checkRecord(text, start, newline!, final);
      if (check.kind === 'problem') {
        reject(problemOf(check), at);
        if (check.end !== end) {
          // papaparse read past the line where the problem is: resume there.
          resumeAt = check.end;
          papa?.abort();
          return;
        }
        advance(end);
        return;
      }
    }
    advance(end);
    if (fields.length === 1 && fields[0] === '') return;
    if (columns === undefined) {
      columns = parseHeader(fields);
      const problem = attributeCountProblem(
        columns.filter((column) => column.kind === 'attribute').length,
      );
      if (problem) {
        throw new RelaisError('VALIDATION_FAILED', `invalid CSV header: ${problem.reason}`);
      }
      return;
    }
    const chars = end - start;
    const bytes =
      chars * MAX_BYTES_PER_CHAR > IMPORT_LIMITS.maxRowBytes
        ? Buffer.byteLength(text.slice(start, end))
        : chars;
    const problem = readRecord(fields, columns, bytes, at, sink);
    if (problem) sink.reject({ line: at, ...problem });
  }

  function step(results: Papa.ParseStepResult<string[]>): void {
    if (fatal !== undefined || resumeAt !== -1) return;
    try {
      // The low-level parser steps one record at a time, wrapped in an array.
      const [fields] = results.data as unknown as string[][];
      onRecord(fields ?? [''], results.meta.cursor);
    } catch (error) {
      fatal ??=
        error instanceof RelaisError
          ? error
          : new RelaisError('VALIDATION_FAILED', 'CSV parsing failed', { cause: error });
      papa?.abort();
    }
  }

  /** Parses every complete record of `text` (all of it when `final`). */
  function parsePending(): void {
    for (;;) {
      if (pos > 0) {
        text = text.slice(pos);
        pos = 0;
      }
      pendingAfterParse = text.length;
      if (text === '') return;
      if (newline === undefined) {
        newline = detectNewline(text, final);
        if (newline === undefined) break;
        breakChar = newline === '\r' ? '\r' : '\n';
      }
      nextBreak = text.indexOf(breakChar);
      nextQuote = text.indexOf('"');
      resumeAt = -1;
      papa = new Papa.Parser({ delimiter: ',', newline, quoteChar: '"', step });
      const result = papa.parse(text, 0, !final) as Papa.ParseResult<string[]>;
      papa = undefined;
      if (fatal !== undefined) return;
      if (resumeAt !== -1) {
        advance(resumeAt);
        continue;
      }
      if (final) return;
      // The incomplete last record: papaparse noticed a bad quote in it, which may mean it
      // would read on to the end of the input; settle it now if its line is complete.
      if (result.errors.length > 0 && hasQuote(pos, text.length)) {
        const check = checkRecord(text, pos, newline, false);
        if (check.kind === 'problem') {
          reject(problemOf(check), line);
          advance(check.end);
          continue;
        }
      }
      pendingAfterParse = text.length - pos;
      break;
    }
    if (text.length - pos > FATAL_RECORD_CHARS) {
      fatal ??= new RelaisError(
        'VALIDATION_FAILED',
        `the record starting at line ${line} is over ${FATAL_RECORD_CHARS} characters (a quote never closed?); the import stops there`,
        { details: { line } },
      );
    }
  }

  function append(decoded: string): void {
    if (!started && decoded !== '') {
      started = true;
      if (decoded.charCodeAt(0) === 0xfeff) decoded = decoded.slice(1);
    }
    text = pos === 0 && text === '' ? decoded : text + decoded;
  }

  function throwIfFatal(): void {
    if (fatal !== undefined) throw fatal;
  }

  return {
    write(chunk) {
      throwIfFatal();
      append(decoder.write(chunk));
      const pending = text.length - pos;
      // Re-parsing a long incomplete record on every small piece would be quadratic.
      if (pending >= 2 * pendingAfterParse || pending > FATAL_RECORD_CHARS) parsePending();
      throwIfFatal();
    },
    async end() {
      throwIfFatal();
      append(decoder.end());
      final = true;
      parsePending();
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
