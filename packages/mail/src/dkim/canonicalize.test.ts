import { describe, expect, it } from 'vitest';
import { relaxedBody, relaxedHeader, splitMessage } from './canonicalize';

describe('relaxed canonicalization', () => {
  // RFC 6376 §3.4.6, the worked example.
  it('canonicalizes the RFC 6376 example headers', () => {
    const { fields } = splitMessage(Buffer.from('A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n'));
    expect(fields.map((field) => relaxedHeader(field.text))).toEqual(['a:X', 'b:Y Z']);
    expect(fields.map((field) => field.key)).toEqual(['a', 'b']);
  });

  it('canonicalizes the RFC 6376 example body', () => {
    expect(relaxedBody(Buffer.from(' C \r\nD \t E\r\n\r\n\r\n')).toString()).toBe(' C\r\nD E\r\n');
  });

  it.each([
    ['', ''],
    ['\r\n\r\n', ''],
    ['abc', 'abc\r\n'],
    ['abc \t', 'abc\r\n'],
    ['abc\r\n \r\n', 'abc\r\n'],
    ['a\r\n\r\nb\r\n', 'a\r\n\r\nb\r\n'],
  ])('turns the body %j into %j', (body, expected) => {
    expect(relaxedBody(Buffer.from(body)).toString()).toBe(expected);
  });

  it('leaves UTF-8 bytes untouched', () => {
    const body = Buffer.from('Zoë  \u00a0 é\r\n', 'utf8');
    expect(relaxedBody(body).toString('utf8')).toBe('Zoë \u00a0 é\r\n');
  });
});

describe('splitMessage', () => {
  it('keeps folded lines with their field and the body after the first empty line', () => {
    const { fields, body } = splitMessage(
      Buffer.from('Subject: a\r\n b\r\nTo: x@y.example\r\n\r\nbody\r\n\r\nmore\r\n'),
    );
    expect(fields).toEqual([
      { key: 'subject', text: 'Subject: a\r\n b' },
      { key: 'to', text: 'To: x@y.example' },
    ]);
    expect(body.toString()).toBe('body\r\n\r\nmore\r\n');
  });

  it.each(['To: a\nSubject: b\r\n\r\nx', 'To: a\r\n\r\nx\ry', 'To: a\r\n\r\nx\n'])(
    'refuses a bare CR or LF in %j',
    (raw) => {
      expect(() => splitMessage(Buffer.from(raw))).toThrow(/bare CR or LF/);
    },
  );
});
