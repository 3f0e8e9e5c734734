import { describe, expect, it } from 'vitest';
import { normalizeEmail } from './email';

describe('normalizeEmail accepts', () => {
  it.each([
    // [input, email, domain, local]
    ['ana@example.com', 'ana@example.com', 'example.com', 'ana'],
    ['Ana.Lima@Example.COM', 'ana.lima@example.com', 'example.com', 'Ana.Lima'],
    ['user@GMAIL.COM.', 'user@gmail.com', 'gmail.com', 'user'],
    ['  padded@example.org \t', 'padded@example.org', 'example.org', 'padded'],
    ['\ufeff\u00a0bom@example.org\r\n', 'bom@example.org', 'example.org', 'bom'],
    [
      'first.last+tag@sub.mail.example.co.uk',
      'first.last+tag@sub.mail.example.co.uk',
      'sub.mail.example.co.uk',
      'first.last+tag',
    ],
    ["o'brien@example.ie", "o'brien@example.ie", 'example.ie', "o'brien"],
    [
      "!#$%&'*+-/=?^_`{|}~@example.com",
      "!#$%&'*+-/=?^_`{|}~@example.com",
      'example.com',
      "!#$%&'*+-/=?^_`{|}~",
    ],
    ['x@a-b.c-d.io', 'x@a-b.c-d.io', 'a-b.c-d.io', 'x'],
    ['x@123.example', 'x@123.example', '123.example', 'x'],
    ['x@example.xn--p1ai', 'x@example.xn--p1ai', 'example.xn--p1ai', 'x'],
    ['x@EXAMPLE.XN--P1AI', 'x@example.xn--p1ai', 'example.xn--p1ai', 'x'],
    ['x@ab--cd.com', 'x@ab--cd.com', 'ab--cd.com', 'x'],
    ['a@b.co', 'a@b.co', 'b.co', 'a'],
    ['info@müller.de', 'info@xn--mller-kva.de', 'xn--mller-kva.de', 'info'],
    ['info@MÜLLER.DE', 'info@xn--mller-kva.de', 'xn--mller-kva.de', 'info'],
    ['info@müller.de.', 'info@xn--mller-kva.de', 'xn--mller-kva.de', 'info'],
    ['info@bücher。de', 'info@xn--bcher-kva.de', 'xn--bcher-kva.de', 'info'],
    ['info@例え.テスト', 'info@xn--r8jz45g.xn--zckzah', 'xn--r8jz45g.xn--zckzah', 'info'],
    ['info@пример.рф', 'info@xn--e1afmkfd.xn--p1ai', 'xn--e1afmkfd.xn--p1ai', 'info'],
    ['info@faß.de', 'info@xn--fa-hia.de', 'xn--fa-hia.de', 'info'],
    [
      `${'l'.repeat(64)}@example.com`,
      `${'l'.repeat(64)}@example.com`,
      'example.com',
      'l'.repeat(64),
    ],
    [`x@${'d'.repeat(63)}.com`, `x@${'d'.repeat(63)}.com`, `${'d'.repeat(63)}.com`, 'x'],
  ])('%s → %s', (input, email, domain, local) => {
    expect(normalizeEmail(input)).toEqual({ ok: true, email, domain, local });
  });

  it('accepts an address of exactly 254 characters', () => {
    const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(50)}.com`;
    const input = `${'l'.repeat(254 - domain.length - 1)}@${domain}`;
    expect(input).toHaveLength(254);
    expect(normalizeEmail(input)).toMatchObject({ ok: true, email: input });
  });

  it('maps case variants of one mailbox to one key', () => {
    const keys = ['Ana@Example.com', 'ANA@EXAMPLE.COM', 'ana@example.com.'].map(
      (input) => (normalizeEmail(input) as { email: string }).email,
    );
    expect(new Set(keys)).toEqual(new Set(['ana@example.com']));
  });
});

describe('normalizeEmail refuses', () => {
  it.each([
    ['', 'empty'],
    ['   \t ', 'empty'],
    ['plainaddress', 'missing @'],
    ['example.com', 'missing @'],
    ['a@b@c.com', 'more than one @'],
    ['a@@b.com', 'more than one @'],
    ['@example.com', 'missing local part before @'],
    ['ana@', 'missing domain after @'],
    ['"quoted"@x.com', 'quoted local parts are not supported'],
    ['"a@b"@x.com', 'quoted local parts are not supported'],
    ['"john doe"@x.com', 'quoted local parts are not supported'],
    ['a"b@x.com', 'quoted local parts are not supported'],
    ['ana lima@example.com', 'contains whitespace or control characters'],
    ['ana@exam ple.com', 'contains whitespace or control characters'],
    ['ana\u00a0lima@example.com', 'contains whitespace or control characters'],
    ['ana\u200b@example.com', 'contains whitespace or control characters'],
    ['ana\0@example.com', 'contains whitespace or control characters'],
    ['ana@example.com\r\nBcc: x@evil.test', 'contains whitespace or control characters'],
    ['ana\u007f@example.com', 'contains whitespace or control characters'],
    ['ana\u0085@example.com', 'contains whitespace or control characters'],
    ['.ana@example.com', 'local part starts with a dot'],
    ['ana.@example.com', 'local part ends with a dot'],
    ['ana..lima@example.com', 'local part has consecutive dots'],
    ['ana(comment)@example.com', "local part contains '('"],
    ['ana,lima@example.com', "local part contains ','"],
    ['ana\\lima@example.com', "local part contains '\\'"],
    ['<ana@example.com>', "local part contains '<'"],
    ['jürgen@example.de', 'non-ASCII local parts are not supported'],
    ['用户@例子.广告', 'non-ASCII local parts are not supported'],
    [`${'l'.repeat(65)}@example.com`, 'local part longer than 64 characters'],
    [`${'l'.repeat(200)}@${'d'.repeat(60)}.com`, 'longer than 254 characters'],
    ['x@localhost', 'domain has no dot'],
    ['x@com.', 'domain has no dot'],
    ['x@example..com', 'domain has an empty label'],
    ['x@.example.com', 'domain has an empty label'],
    ['x@example.com..', 'domain has an empty label'],
    ['x@-bad.com', 'domain label starts or ends with a hyphen'],
    ['x@bad-.com', 'domain label starts or ends with a hyphen'],
    ['x@example.-com', 'domain label starts or ends with a hyphen'],
    [`x@${'d'.repeat(64)}.com`, 'domain label longer than 63 characters'],
    ['x@under_score.com', "domain contains '_'"],
    ['x@exa!mple.com', "domain contains '!'"],
    ['x@exa%41mple.com', "domain contains '%'"],
    ['x@müller%2Ede', "domain contains '%'"],
    ['x@123.456', 'top-level domain is numeric'],
    ['x@1.2.3.4', 'top-level domain is numeric'],
    ['x@[1.2.3.4]', 'IP address literals are not accepted'],
    ['x@[IPv6:2001:db8::1]', 'IP address literals are not accepted'],
    ['x@xn--zz.com', 'invalid international domain name'],
    ['x@XN--ZZ.com', 'invalid international domain name'],
    ['x@xn--.com', 'domain label starts or ends with a hyphen'],
    ['x@-müller.de', 'domain label starts or ends with a hyphen'],
    ['x@müller-.de', 'domain label starts or ends with a hyphen'],
    ['x@müller.de-', 'domain label starts or ends with a hyphen'],
    ['x@müller.-de', 'domain label starts or ends with a hyphen'],
    ['Ana Lima <ana@example.com>', 'contains whitespace or control characters'],
    ['mailto:ana@example.com', "local part contains ':'"],
  ])('%j: %s', (input, reason) => {
    expect(normalizeEmail(input)).toEqual({ ok: false, reason });
  });

  it('refuses an address that grows past 254 characters once in punycode', () => {
    const input = `${'l'.repeat(64)}@${Array(4).fill('ü'.repeat(40)).join('.')}.de`;
    expect(input.length).toBeLessThanOrEqual(254);
    expect(normalizeEmail(input)).toEqual({ ok: false, reason: 'longer than 254 characters' });
  });

  it('refuses a domain that grows past 253 characters once in punycode', () => {
    const input = `x@${Array(4).fill('ü'.repeat(56)).join('.')}.de`;
    expect(input.length).toBeLessThanOrEqual(254);
    expect(normalizeEmail(input)).toEqual({
      ok: false,
      reason: 'domain longer than 253 characters',
    });
  });
});
