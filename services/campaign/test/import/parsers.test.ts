import { describe, expect, it } from 'vitest';
import { parseHeader, parseIsoDate } from '../../src/import/csv-columns';
import { createCsvParser } from '../../src/import/csv';
import { describeJsonError } from '../../src/import/json-error';
import { createNdjsonParser } from '../../src/import/ndjson';
import type { ContactRow, FormatParser, ImportRowError, RowSink } from '../../src/import/types';

/** A sink that records what the parser reported. */
function recordingSink(): RowSink & {
  rows: (ContactRow & { line: number })[];
  errors: ImportRowError[];
} {
  const rows: (ContactRow & { line: number })[] = [];
  const errors: ImportRowError[] = [];
  return {
    rows,
    errors,
    accept: (row, line) => rows.push({ ...row, attributes: { ...row.attributes }, line }),
    reject: (error) => errors.push(error),
  };
}

/** Feeds `text` in pieces of `pieceBytes`, which cuts rows and UTF-8 sequences anywhere. */
async function feed(parser: FormatParser, text: string, pieceBytes = 1 << 20): Promise<void> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += pieceBytes)
    parser.write(bytes.subarray(i, i + pieceBytes));
  await parser.end();
}

describe('CSV parser', () => {
  const csv = [
    'email,first_name,age:number', // 1
    'ok1@example.com,Ana,30', // 2
    'not-an-email,Bob,40', // 3
    'ok2@example.com,"two', // 4
    'lines",22', // 5
    'ok3@example.com,Cy', // 6
    'ok4@example.com,Dee,old', // 7
    '', // 8
    'ok5@example.com,Ed"x,1', // 9
    'ok6@example.com,Fay,50', // 10
  ].join('\n');

  it('reports each bad row at the line where it starts and keeps the good rows', async () => {
    const sink = recordingSink();
    await feed(createCsvParser(sink), csv);
    expect(sink.rows.map((row) => [row.line, row.email])).toEqual([
      [2, 'ok1@example.com'],
      [4, 'ok2@example.com'],
      [10, 'ok6@example.com'],
    ]);
    expect(sink.rows[1]?.attributes).toEqual({ first_name: 'two\nlines', age: 22 });
    expect(sink.errors).toEqual([
      { line: 3, reason: 'invalid email: missing @', field: 'email' },
      { line: 6, reason: 'row has 2 fields, header has 3' },
      { line: 7, reason: 'not a number', field: 'age' },
      { line: 9, reason: expect.stringContaining('quote') as string, field: 'first_name' },
    ]);
  });

  it('gives the same result when the input arrives a few bytes at a time', async () => {
    const whole = recordingSink();
    await feed(createCsvParser(whole), csv);
    const pieces = recordingSink();
    await feed(createCsvParser(pieces), csv, 3);
    expect(pieces.rows).toEqual(whole.rows);
    expect(pieces.errors).toEqual(whole.errors);
  });

  it('reads a BOM, CRLF line ends, unicode values and IDN domains', async () => {
    const sink = recordingSink();
    const text =
      '\ufeffEMAIL,Name,Tags\r\nAna@Bücher.DE,Zoë Ünal,a;b|a\r\n\r\nbo@example.com,"x, ""y""",\r\n';
    await feed(createCsvParser(sink), text, 5);
    expect(sink.errors).toEqual([]);
    expect(sink.rows).toEqual([
      {
        line: 2,
        email: 'ana@xn--bcher-kva.de',
        domain: 'xn--bcher-kva.de',
        attributes: { Name: 'Zoë Ünal' },
        tags: ['a', 'b'],
      },
      {
        line: 4,
        email: 'bo@example.com',
        domain: 'example.com',
        attributes: { Name: 'x, "y"' },
        tags: [],
      },
    ]);
  });

  it('converts typed columns and leaves untyped numbers as strings', async () => {
    const sink = recordingSink();
    await feed(
      createCsvParser(sink),
      'email,zip,age:number,vip:boolean,signup_at:date\na@x.io,01234,41,yes,2026-01-05\nb@x.io,,,,2026-02-30\n',
    );
    expect(sink.rows[0]?.attributes).toEqual({
      zip: '01234',
      age: 41,
      vip: true,
      signup_at: '2026-01-05T00:00:00.000Z',
    });
    expect(sink.errors).toEqual([{ line: 3, reason: 'not an ISO-8601 date', field: 'signup_at' }]);
  });

  it('rejects rows over the size limits without stopping', async () => {
    const sink = recordingSink();
    const long = 'v'.repeat(3_000);
    const tags = Array.from({ length: 60 }, (_, i) => `t${i}`).join(';');
    await feed(
      createCsvParser(sink),
      `email,note,tags\na@x.io,${long},\nb@x.io,,${tags}\nc@x.io,ok,\n`,
    );
    expect(sink.errors).toEqual([
      { line: 2, reason: 'value is 3000 characters, limit is 2048', field: 'note' },
      { line: 3, reason: 'more than 50 tags', field: 'tags' },
    ]);
    expect(sink.rows.map((row) => row.email)).toEqual(['c@x.io']);
  });

  it('stops on an unclosed quote that swallows the rest of the input', async () => {
    const sink = recordingSink();
    const parser = createCsvParser(sink);
    const rest = 'x,y\n'.repeat(100_000);
    await expect(feed(parser, `email,note\na@x.io,"open\n${rest}`)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('line 2') as string,
    });
  });

  it('counts the lines of a quoted multi-line field once with CRLF line ends', async () => {
    const sink = recordingSink();
    const text = [
      'email,name,age:number', // 1
      'a@x.io,"Multi', // 2
      'line",22', // 3
      'b@x.io,Cy,abc', // 4
      'c@x.io,Dee', // 5
      '', // 6
      'd@x.io,"three', // 7
      '', // 8
      'lines",1', // 9
      'e@x.io,Eve,x', // 10
    ].join('\r\n');
    await feed(createCsvParser(sink), text, 4);
    expect(sink.rows.map((row) => [row.line, row.email])).toEqual([
      [2, 'a@x.io'],
      [7, 'd@x.io'],
    ]);
    expect(sink.rows[0]?.attributes).toEqual({ name: 'Multi\r\nline', age: 22 });
    expect(sink.errors.map((error) => error.line)).toEqual([4, 5, 10]);
  });

  it('rejects a bad closing quote up to the end of its line and reads on from there', async () => {
    const sink = recordingSink();
    const text = 'email,note\na@x.io,"bad"x\nb@x.io,ok\nc@x.io,"fine, ""quoted"""\nd@x.io,"open';
    await feed(createCsvParser(sink), text, 5);
    expect(sink.rows.map((row) => [row.line, row.email, row.attributes['note']])).toEqual([
      [3, 'b@x.io', 'ok'],
      [4, 'c@x.io', 'fine, "quoted"'],
    ]);
    expect(sink.errors).toEqual([
      { line: 2, reason: 'unexpected character after a closing quote', field: 'note' },
      { line: 5, reason: 'quoted field is not closed before the end of the input', field: 'note' },
    ]);
  });

  it('reads old Mac CR line ends', async () => {
    const sink = recordingSink();
    await feed(createCsvParser(sink), 'email,name\ra@x.io,"A\rB"\rb@x.io,C\r', 3);
    expect(sink.rows.map((row) => [row.line, row.attributes['name']])).toEqual([
      [2, 'A\rB'],
      [4, 'C'],
    ]);
  });

  it('refuses a header without an email column, with a duplicate or an empty input', async () => {
    expect(() => parseHeader(['name', 'city'])).toThrow(/no "email" column/);
    expect(() => parseHeader(['email', 'city', 'City', 'city'])).toThrow(/"city" appears twice/);
    await expect(feed(createCsvParser(recordingSink()), '')).rejects.toThrow(/header row/);
  });

  it('reads only real calendar dates, UTC unless an offset is given', () => {
    expect(parseIsoDate('2026-01-05 10:30')).toBe('2026-01-05T10:30:00.000Z');
    expect(parseIsoDate('2026-01-05T10:30:00+02:00')).toBe('2026-01-05T08:30:00.000Z');
    expect(parseIsoDate('2024-02-29')).toBe('2024-02-29T00:00:00.000Z');
    expect(parseIsoDate('2026-02-29')).toBeUndefined();
    expect(parseIsoDate('05/01/2026')).toBeUndefined();
  });
});

describe('NDJSON parser', () => {
  it('reports bad lines by physical line number and keeps the good ones', async () => {
    const sink = recordingSink();
    const text = [
      '{"email":"a@x.io","attributes":{"plan":"pro","n":3},"tags":["t"],"city":"Paris"}', // 1
      '', // 2
      '{"email":"b@x.io", "plan": }', // 3
      '{"email":"c@"}', // 4
      '[1,2]', // 5
      `{"email":"d@x.io","note":"${'v'.repeat(3_000)}"}`, // 6
      '{"email":"e@x.io","plan":null,"attributes":{"city":"Lyon"}}', // 7
    ].join('\r\n');
    await feed(createNdjsonParser(sink), text, 7);
    expect(sink.rows).toEqual([
      {
        line: 1,
        email: 'a@x.io',
        domain: 'x.io',
        attributes: { city: 'Paris', plan: 'pro', n: 3 },
        tags: ['t'],
      },
      { line: 7, email: 'e@x.io', domain: 'x.io', attributes: { city: 'Lyon' }, tags: [] },
    ]);
    expect(sink.errors).toEqual([
      { line: 3, reason: 'invalid JSON: unexpected token at column 28' },
      { line: 4, reason: 'invalid email: missing domain after @', field: 'email' },
      { line: 5, reason: 'each line must be a JSON object' },
      { line: 6, reason: 'value is 3000 characters, limit is 2048', field: 'note' },
    ]);
  });

  it('points at the column where a JSON line breaks', () => {
    expect(describeJsonError('{"a": 1,}')).toBe('invalid JSON: unexpected token at column 9');
    expect(describeJsonError('{"a": [1, 2')).toBe(
      'invalid JSON: unexpected end of line at column 12',
    );
    expect(describeJsonError('{"a": tru}')).toBe('invalid JSON: unexpected token at column 10');
    expect(describeJsonError('{"a": "\\q"}')).toBe('invalid JSON: unexpected token at column 9');
  });

  it('rejects a line over the row size without buffering it whole', async () => {
    const sink = recordingSink();
    const huge = `{"email":"a@x.io","note":"${'v'.repeat(200_000)}"}`;
    await feed(createNdjsonParser(sink), `${huge}\n{"email":"b@x.io"}`, 1_000);
    expect(sink.errors).toEqual([
      { line: 1, reason: 'line is over 65536 bytes, the row size limit' },
    ]);
    expect(sink.rows.map((row) => [row.line, row.email])).toEqual([[2, 'b@x.io']]);
  });
});
