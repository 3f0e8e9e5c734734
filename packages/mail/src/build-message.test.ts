import type { AddressObject, ParsedMail } from 'mailparser';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import type { BuildMessageInput } from './build-message';
import { buildMessage } from './build-message';
import { cleanHeaderText } from './header-safety';
import { verifyUnsubscribeToken } from './unsubscribe';
import { parseVerp } from './verp';

const secret = 'a-test-secret-of-at-least-32-bytes!!';
const messageId = '0190f3c2-7b1e-7c3a-9d4e-1f2a3b4c5d6e';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function input(overrides: Partial<BuildMessageInput> = {}): BuildMessageInput {
  return {
    messageId,
    from: { address: 'news@acme.example', name: 'Acme News' },
    to: { address: 'zoe@example.com', name: 'Zoë Dupont' },
    subject: 'Our offers this week',
    html: '<p>Hello Zoë</p>',
    text: 'Hello Zoë',
    date: new Date('2026-03-01T09:30:00Z'),
    bounce: { domain: 'bounces.acme.example', secret },
    unsubscribe: { baseUrl: 'https://u.acme.example', secret, mailto: 'unsub@acme.example' },
    feedbackId: { campaignId: 'c42', tenantId: 't7', mailClass: 'bulk', senderId: 'relais' },
    ...overrides,
  };
}

const EXPECTED_FIELDS = [
  'from',
  'to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'feedback-id',
  'content-type',
];

/** Checks the raw bytes, parses them, and asserts the header set and the single recipient. */
async function parseSafely(raw: Buffer, extraFields: string[] = []): Promise<ParsedMail> {
  const text = raw.toString('utf8');
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n\0]/);
  for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(998);
  const headerBlock = text.slice(0, text.indexOf('\r\n\r\n'));
  const fieldNames = headerBlock
    .split('\r\n')
    .filter((line) => !/^[ \t]/.test(line))
    .map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
  expect(fieldNames.sort()).toEqual([...EXPECTED_FIELDS, ...extraFields].sort());

  const parsed = await simpleParser(raw);
  expect(parsed.headerLines.map((line) => line.key).sort()).toEqual(
    [...EXPECTED_FIELDS, ...extraFields].sort(),
  );
  const to = parsed.to as AddressObject;
  expect(to.value).toHaveLength(1);
  expect(to.value[0]!.address).toBe('zoe@example.com');
  expect(parsed.cc).toBeUndefined();
  expect(parsed.bcc).toBeUndefined();
  expect((parsed.from as AddressObject).value).toHaveLength(1);
  return parsed;
}

const HOSTILE_TEXT: [string, string][] = [
  ['CRLF and a Bcc', 'Bob\r\nBcc: evil@x.example'],
  ['a bare LF', 'Bob\nBcc: evil@x.example'],
  ['a bare CR', 'Bob\rBcc: evil@x.example'],
  ['a blank line then a body', 'Bob\r\n\r\n<html>pwned</html>'],
  ['NUL', 'Bob\0Bcc: evil@x.example'],
  ['TAB and other C0 controls', 'Bob\t\u0001\u001b[31m'],
  ['NEL (U+0085)', 'Bob\u0085Bcc: evil@x.example'],
  ['LINE SEPARATOR (U+2028)', 'Bob\u2028Bcc: evil@x.example'],
  ['a B encoded-word hiding CRLF', `=?utf-8?b?${b64('\r\nBcc: evil@x.example')}?=`],
  ['a Q encoded-word hiding CRLF', '=?utf-8?q?=0D=0ABcc:_evil@x.example?='],
  ['an encoded-word hiding an address list', `=?utf-8?b?${b64('a@x.example, b@y.example')}?=`],
  ['a comma-separated address list', 'evil@x.example, other@y.example'],
  ['an angle-bracket address', 'Eve <evil@x.example>'],
  ['semicolons and a group', 'Team: a@x.example; b@y.example;'],
  ['quotes and backslashes', 'A "quoted" \\ name\\'],
  ['non-ASCII with a comma', 'Zoë, Dupont <a@b.example>'],
  ['a lone surrogate', 'Bob \ud800 Smith'],
  ['5,000 characters without a space', 'x'.repeat(5000)],
  ['many folds worth of words', 'word '.repeat(400)],
];

describe('buildMessage header safety', () => {
  it.each(HOSTILE_TEXT)('keeps a display name with %s inside To', async (_label, name) => {
    const built = buildMessage(input({ to: { address: 'zoe@example.com', name } }));
    const parsed = await parseSafely(built.raw);
    const expected = cleanHeaderText(name).slice(0, 200).trim();
    expect((parsed.to as AddressObject).value[0]!.name).toBe(expected);
  });

  it.each(HOSTILE_TEXT)('keeps a subject with %s inside Subject', async (_label, subject) => {
    const parsed = await parseSafely(buildMessage(input({ subject })).raw);
    // mailparser collapses the whitespace of folded lines; compare words, not spacing.
    expect(parsed.subject?.replace(/\s+/g, ' ')).toBe(
      cleanHeaderText(subject).replace(/\s+/g, ' '),
    );
  });

  it.each(HOSTILE_TEXT)('keeps a Reply-To name with %s inside Reply-To', async (_label, name) => {
    const built = buildMessage(input({ replyTo: { address: 'help@acme.example', name } }));
    const parsed = await parseSafely(built.raw, ['reply-to']);
    expect((parsed.replyTo as AddressObject).value).toEqual([
      expect.objectContaining({ address: 'help@acme.example' }),
    ]);
  });

  it.each([
    'zoe@example.com, evil@x.example',
    'zoe@example.com;evil@x.example',
    'Zoe <zoe@example.com>',
    '<zoe@example.com>',
    'zoe@example.com\r\nBcc: evil@x.example',
    'zoe@example.com\n',
    ' zoe@example.com',
    '"a,b"@example.com',
    'zoe@exa mple.com',
    'zoe@example.com>',
    'a@b@example.com',
    '=?utf-8?b?ZXZpbEB4LmV4YW1wbGU=?=@example.com',
    '',
  ])('refuses the recipient address %j', (address) => {
    expect(() => buildMessage(input({ to: { address } }))).toThrow(
      /to is not a single valid address/,
    );
  });

  it('refuses an unsafe Reply-To, From or mailto address', () => {
    const bad = { address: 'a@x.example, b@y.example' };
    expect(() => buildMessage(input({ replyTo: bad }))).toThrow(/replyTo/);
    expect(() => buildMessage(input({ from: bad }))).toThrow(/from/);
    expect(() =>
      buildMessage(
        input({ unsubscribe: { baseUrl: 'https://u.acme.example', secret, mailto: bad.address } }),
      ),
    ).toThrow(/mailto/);
  });

  it('adds fixed configured headers and refuses unsafe or reserved ones', async () => {
    const built = buildMessage(input({ headers: { 'X-Mailer-Pool': 'pool-a' } }));
    const parsed = await parseSafely(built.raw, ['x-mailer-pool']);
    expect(parsed.headers.get('x-mailer-pool')).toBe('pool-a');
    const unsafe: Record<string, string>[] = [
      { Bcc: 'evil@x.example' },
      { 'list-unsubscribe': '<https://evil.example>' },
      { 'X-A': 'value\r\nBcc: evil@x.example' },
      { 'X A': 'value' },
      { 'X-A:': 'value' },
      { 'X-A': 'non-ASCII é' },
    ];
    for (const headers of unsafe) {
      expect(() => buildMessage(input({ headers })), JSON.stringify(headers)).toThrow();
    }
  });
});

describe('buildMessage structure', () => {
  it('writes Message-ID, Date, List-Unsubscribe, List-Unsubscribe-Post and Feedback-ID', async () => {
    const built = buildMessage(input());
    const parsed = await parseSafely(built.raw);
    expect(built.messageIdHeader).toBe(`<${messageId}@acme.example>`);
    expect(parsed.messageId).toBe(built.messageIdHeader);
    expect(built.raw.toString()).toContain('\r\nDate: Sun, 01 Mar 2026 09:30:00 +0000\r\n');
    const post = parsed.headerLines.find((line) => line.key === 'list-unsubscribe-post');
    expect(post?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(parsed.headers.get('feedback-id')).toBe('c42:t7:bulk:relais');
    const list = parsed.headerLines.find((line) => line.key === 'list-unsubscribe');
    expect(list?.line).toMatch(
      /^List-Unsubscribe: <https:\/\/u\.acme\.example\/u\/[\w-]{44}>,\r\n <mailto:unsub@acme\.example\?subject=unsubscribe-[\w-]{44}>$/,
    );
    const url = built.unsubscribeUrl!;
    expect(url).not.toContain('zoe');
    expect(verifyUnsubscribeToken(url.split('/u/')[1]!, secret)).toEqual({ ok: true, messageId });
  });

  it('returns the VERP envelope sender and the validated recipient, with no Return-Path header', () => {
    const built = buildMessage(input({ to: { address: 'Zoe@EXAMPLE.com' } }));
    expect(parseVerp(built.envelopeFrom, secret)).toEqual({ ok: true, messageId });
    expect(built.envelopeFrom).toMatch(/@bounces\.acme\.example$/);
    expect(built.envelopeTo).toBe('Zoe@example.com');
    expect(built.raw.toString()).not.toMatch(/^return-path:/im);
  });

  it('leaves out List-Unsubscribe for transactional mail', async () => {
    const built = buildMessage(input({ unsubscribe: null, feedbackId: undefined }));
    const text = built.raw.toString();
    expect(text).not.toMatch(/^list-unsubscribe/im);
    expect(built.unsubscribeUrl).toBeNull();
    expect((await simpleParser(built.raw)).text).toBe('Hello Zoë');
  });

  it('sends html and text as multipart/alternative with the html last', async () => {
    const html = '<p>Bonjour Zoë</p>\n<p>' + 'long line '.repeat(200) + '</p>';
    const text = 'Bonjour Zoë\r\nligne deux\rligne trois\n';
    const built = buildMessage(input({ html, text }));
    const raw = built.raw.toString();
    expect(raw).toMatch(/Content-Type: multipart\/alternative; boundary="=_[0-9a-f]{32}"/);
    expect(raw.indexOf('text/plain')).toBeLessThan(raw.indexOf('text/html'));
    const parsed = await parseSafely(built.raw);
    expect((parsed.html || '').replace(/\r\n/g, '\n')).toBe(html);
    expect(parsed.text?.replace(/\r\n/g, '\n')).toBe('Bonjour Zoë\nligne deux\nligne trois\n');
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    for (const line of body.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
  });

  it('encodes mostly-ASCII bodies as quoted-printable and CJK bodies as base64', () => {
    const latin = buildMessage(
      input({ html: undefined, text: 'Viele Grüße aus Köln an die ganze Familie' }),
    ).raw.toString();
    expect(latin).toContain('Content-Transfer-Encoding: quoted-printable');
    const cjk = buildMessage(input({ html: undefined, text: 'こんにちは、世界' })).raw.toString();
    expect(cjk).toContain('Content-Transfer-Encoding: base64');
  });

  it('round-trips a non-ASCII subject and display names', async () => {
    const built = buildMessage(
      input({
        subject: 'Überraschung für Zoë 🎉',
        from: { address: 'news@acme.example', name: 'Acmé' },
      }),
    );
    const parsed = await parseSafely(built.raw);
    expect(parsed.subject).toBe('Überraschung für Zoë 🎉');
    expect((parsed.from as AddressObject).value[0]!.name).toBe('Acmé');
    expect((parsed.to as AddressObject).value[0]!.name).toBe('Zoë Dupont');
  });

  it.each([
    [{ messageId: 'not-a-uuid' }, /UUID/],
    [{ html: undefined, text: undefined }, /html or a text body/],
    [{ sendingDomain: 'bad domain' }, /sendingDomain/],
    [{ bounce: { domain: 'x', secret } }, /bounce.domain/],
    [
      { feedbackId: { campaignId: 'a:b', tenantId: 't', mailClass: 'bulk', senderId: 's' } },
      /Feedback-ID/,
    ],
  ] as const)('refuses %j', (overrides, message) => {
    expect(() => buildMessage(input(overrides as Partial<BuildMessageInput>))).toThrow(message);
  });
});
