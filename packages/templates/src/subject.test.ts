import { describe, expect, it } from 'vitest';
import { compileTemplate } from './compile';
import { sanitizeSubject } from './subject';

const renderSubject = (subject: string, attributes: Record<string, string>) =>
  compileTemplate({ subject, text: 't' }).render({
    contact: { email: 'a@example.com', attributes },
  }).subject;

describe('subject header injection', () => {
  it.each([
    ['CRLF and a header', 'Ana\r\nBcc: x@evil.test', 'Hi Ana Bcc: x@evil.test!'],
    ['bare LF', 'Ana\nBcc: x@evil.test', 'Hi Ana Bcc: x@evil.test!'],
    ['bare CR', 'Ana\rBcc: x@evil.test', 'Hi Ana Bcc: x@evil.test!'],
    ['CRLF then folding whitespace', 'Ana\r\n\tBcc: x@evil.test', 'Hi Ana Bcc: x@evil.test!'],
    ['a blank line starting a body', 'Ana\r\n\r\n<html>', 'Hi Ana <html>!'],
    ['NUL', 'An\u0000a', 'Hi An a!'],
    ['other C0 controls and DEL', 'A\u0007n\u001ba\u007f', 'Hi A n a !'],
    ['NEL and the Unicode separators', 'A\u0085n\u2028a\u2029', 'Hi A n a !'],
  ])('folds %s into a space', (_name, firstName, expected) => {
    const subject = renderSubject('Hi {{ contact.first_name }}!', { first_name: firstName });
    expect(subject).toBe(expected);
    expect(subject).not.toMatch(/[\r\n\0]/);
  });

  it.each([
    ['base64', '=?utf-8?b?DQpCY2M6IHhAZXZpbC50ZXN0?=', 'Hi = ?utf-8?b?DQpCY2M6IHhAZXZpbC50ZXN0?='],
    ['Q encoding', '=?UTF-8?Q?=0D=0ABcc:_x@evil.test?=', 'Hi = ?UTF-8?Q?=0D=0ABcc:_x@evil.test?='],
    ['a language tag', '=?us-ascii*en?q?Hi?=', 'Hi = ?us-ascii*en?q?Hi?='],
    ['spaces inside', '=?utf-8?q?a b?=', 'Hi = ?utf-8?q?a b?='],
  ])('disarms an encoded word in %s', (_name, firstName, expected) => {
    expect(renderSubject('Hi {{ contact.first_name }}', { first_name: firstName })).toBe(expected);
  });

  it('folds line breaks written in the template itself', () => {
    expect(renderSubject('Line one\nLine two', {})).toBe('Line one Line two');
  });

  it('trims surrounding whitespace left by empty fields', () => {
    expect(renderSubject('{{ contact.missing }} News ', {})).toBe('News');
  });

  it('keeps ordinary text, question marks, equals signs and non-ASCII', () => {
    expect(sanitizeSubject('2+2=? Ça va — 50% off ✓')).toBe('2+2=? Ça va — 50% off ✓');
  });

  it('keeps spacing the author wrote between words', () => {
    expect(sanitizeSubject('A  B')).toBe('A  B');
  });
});
