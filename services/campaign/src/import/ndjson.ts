import {
  addTags,
  attributeCountProblem,
  IMPORT_LIMITS,
  keyProblem,
  parseEmail,
  valueLengthProblem,
  type RowProblem,
} from './limits';
import { describeJsonError } from './json-error';
import type { AttributeValue, FormatParser, RowSink } from './types';

const NEWLINE = 0x0a;

/**
 * Parses newline-delimited JSON: one object per line,
 * `{"email": "…", "attributes": {…}, "tags": ["…"]}`. Other top-level keys are attributes too
 * (flat exports are common); on a clash the `attributes` object wins. A null value means "no
 * value", like an empty CSV cell. Blank lines are skipped but still counted, so line numbers
 * match what an editor shows. A line over the row size is rejected without being buffered:
 * memory stays bounded even when a file has no newlines at all.
 */
export function createNdjsonParser(sink: RowSink): FormatParser {
  let line = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // Set while skipping the rest of an oversize line.
  let oversize = false;

  function finishLine(bytes: Buffer): void {
    line++;
    if (oversize || bytes.length > IMPORT_LIMITS.maxRowBytes) {
      oversize = false;
      sink.reject({
        line,
        reason: `line is over ${IMPORT_LIMITS.maxRowBytes} bytes, the row size limit`,
      });
      return;
    }
    let text = bytes.toString('utf8');
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    const problem = readLine(text, line, sink);
    if (problem) sink.reject({ line, ...problem });
  }

  function append(part: Buffer): void {
    if (oversize) return;
    if (pendingBytes + part.length > IMPORT_LIMITS.maxRowBytes) {
      oversize = true;
      pending = [];
      pendingBytes = 0;
      return;
    }
    pending.push(part);
    pendingBytes += part.length;
  }

  function takeLine(last: Buffer): Buffer {
    if (pending.length === 0) return last;
    append(last);
    const whole = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    return whole;
  }

  return {
    write(chunk) {
      let start = 0;
      for (;;) {
        const end = chunk.indexOf(NEWLINE, start);
        if (end === -1) break;
        finishLine(takeLine(chunk.subarray(start, end)));
        start = end + 1;
      }
      // Copied: the caller may reuse its buffer once `write` returns.
      if (start < chunk.length) append(Buffer.from(chunk.subarray(start)));
    },
    async end() {
      if (pending.length > 0 || oversize) finishLine(takeLine(Buffer.alloc(0)));
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readLine(text: string, line: number, sink: RowSink): RowProblem | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse messages may quote the input; the report gives a position instead.
    return { reason: describeJsonError(text) };
  }
  if (!isObject(value)) return { reason: 'each line must be a JSON object' };
  const { email: rawEmail, attributes: nested, tags: rawTags, ...flat } = value;
  if (typeof rawEmail !== 'string') {
    return rawEmail === undefined || rawEmail === null
      ? { reason: 'missing email', field: 'email' }
      : { reason: '"email" must be a string', field: 'email' };
  }
  const email = parseEmail(rawEmail);
  if (!email.ok) return email.problem;
  if (nested !== undefined && nested !== null && !isObject(nested)) {
    return { reason: '"attributes" must be an object', field: 'attributes' };
  }
  const attributes = Object.create(null) as Record<string, AttributeValue>;
  let count = 0;
  for (const source of [flat, nested ?? {}]) {
    for (const [key, item] of Object.entries(source)) {
      if (item === null || item === undefined) continue;
      const problem = keyProblem(key);
      if (problem) return problem;
      if (typeof item === 'string') {
        const tooLong = valueLengthProblem(key, item);
        if (tooLong) return tooLong;
      }
      if (!(key in attributes)) count++;
      // JSON.parse output: only strings, numbers, booleans, arrays and objects remain.
      attributes[key] = item as AttributeValue;
    }
  }
  const tooMany = attributeCountProblem(count);
  if (tooMany) return tooMany;
  const tags: string[] = [];
  if (rawTags !== undefined && rawTags !== null) {
    if (!Array.isArray(rawTags) || !rawTags.every((tag) => typeof tag === 'string')) {
      return { reason: '"tags" must be an array of strings', field: 'tags' };
    }
    const problem = addTags(tags, rawTags);
    if (problem) return problem;
  }
  sink.accept({ email: email.email, domain: email.domain, attributes, tags }, line);
  return undefined;
}
