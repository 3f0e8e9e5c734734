import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseReport } from '../src/index';
import { expectedKind, labels } from './helpers';

/**
 * Recipient and status each fixture must yield, read by hand from the message (status only
 * where the notice prints an enhanced code).
 */
const EXPECTED: Record<string, { address?: string; status?: string; replyCode?: number }> = {
  'lhost-postfix-02.eml': { address: 'filtered@example.co.jp', status: '5.2.1', replyCode: 550 },
  'lhost-postfix-17.eml': { address: 'kijitora@example.org', status: '5.4.4' },
  'lhost-exim-05.eml': { address: 'kijitora@neko.example.co.jp', status: '5.1.1', replyCode: 553 },
  'lhost-exim-59.eml': { address: 'kijitora@icloud.example.com', status: '5.1.1', replyCode: 550 },
  'lhost-qmail-06.eml': { address: 'kijitora@example.jp', status: '4.2.2', replyCode: 450 },
  'lhost-sendmail-01.eml': {
    address: 'userunknown@bouncehammer.jp',
    status: '5.1.1',
    replyCode: 550,
  },
  'lhost-exchange2003-02.eml': { address: 'kijitora@example.co.jp' },
  'lhost-exchange2007-07.eml': { address: 'kijitora@example.jp', status: '5.1.1', replyCode: 550 },
  'lhost-office365-01.eml': { address: 'kijitora@example.com', status: '5.1.10', replyCode: 550 },
  'lhost-outlook-01.eml': { address: 'kijitora@example.jp', status: '5.2.2', replyCode: 550 },
  'lhost-gmail-19.eml': { address: 'neko-nyaan@google.example.com' },
  'lhost-yahoo-14.eml': { address: 'kijitora@example.org', replyCode: 554 },
  'lhost-amazonses-06.eml': { address: 'bounce@simulator.amazonses.com', status: '5.1.1' },
  'lhost-amazonses-10.eml': { address: 'bounce@simulator.amazonses.com', status: '5.1.1' },
  'lhost-amazonses-12.eml': { address: 'success@simulator.amazonses.com' },
  'lhost-courier-01.eml': { address: 'kijitora@example.co.jp', status: '5.1.1', replyCode: 550 },
  'rhost-aol-01.eml': { address: 'kijitora@example.jp', status: '5.4.4' },
  'rfc3464-26.eml': { address: 'kijitora@example.or.jp', status: '5.1.1', replyCode: 550 },
  'rfc3464-35.eml': { address: 'kijitora@nyaan.example.com', status: '5.0.0', replyCode: 550 },
  'rfc3834-01.eml': {},
  'rfc3834-06.eml': { address: 'kijitora@example.com' },
  'is-not-bounce-01.eml': {},
  'arf-01.eml': { address: 'redacted@example.net' },
  'arf-22.eml': { address: 'kijitora@example.com' },
};

describe('parseReport on labelled fixtures', () => {
  const rows = labels('bounces');

  it('covers every fixture with an expectation', () => {
    expect(rows.map((r) => r.file).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const row of rows) {
    it(`${row.file} (${row.reason}) is ${expectedKind(row.reason)}`, () => {
      const parsed = parseReport(readFileSync(row.path));
      expect(parsed.kind).toBe(expectedKind(row.reason));
      const want = EXPECTED[row.file]!;
      if (want.address === undefined) {
        expect(parsed.recipients).toEqual([]);
        return;
      }
      const first = parsed.recipients[0];
      expect(first?.address.toLowerCase()).toBe(want.address);
      expect(first?.status).toBe(want.status);
      if (want.replyCode !== undefined) expect(first?.replyCode).toBe(want.replyCode);
    });
  }

  it('reads every recipient block of a multi-recipient DSN, delayed included', () => {
    const parsed = parseReport(readFileSync(rows.find((r) => r.file === 'rfc3464-35.eml')!.path));
    expect(parsed.recipients.map((r) => [r.address, r.action, r.status])).toEqual([
      ['kijitora@nyaan.example.com', 'failed', '5.0.0'],
      ['sabatora@cat.example.net', 'delayed', '4.0.0'],
      ['mikeneko@neko.example.or.jp', 'failed', '5.0.0'],
    ]);
    expect(parsed.recipients[0]!.diagnostic).toBe(
      "550 'kijitora@nyaan.example.com' is not a registered gateway user",
    );
    expect(parsed.reportingMta).toBe('cs.utk.edu');
  });

  it('finds the returned message (our Message-ID and VERP Return-Path)', () => {
    const parsed = parseReport(
      readFileSync(rows.find((r) => r.file === 'lhost-exim-05.eml')!.path),
    );
    expect(parsed.originalMessageId).toBe('<19990429233445.000000@mx4.example.org>');
    expect(parsed.originalEnvelopeFrom).toBe('shironeko@example.org');
    expect(parsed.originalHeaderFields?.subject).toBe('Nyaaan');
  });

  it('gives the remote MTA and the unfolded diagnostic of a DSN', () => {
    const parsed = parseReport(readFileSync(rows.find((r) => r.file === 'rhost-aol-01.eml')!.path));
    const r = parsed.recipients[0]!;
    expect(r.diagnostic).not.toMatch(/\n/);
    expect(r.action).toBe('failed');
    expect(r.finalRecipient).toBe('kijitora@example.jp');
  });
});

describe('line endings', () => {
  const dsn = readFileSync(
    labels('bounces').find((r) => r.file === 'rfc3464-26.eml')!.path,
    'utf8',
  );
  const lf = dsn.replace(/\r\n?/g, '\n');
  const reference = parseReport(lf);

  it('CRLF, CR-only and mixed variants of a DSN parse the same', () => {
    expect(reference.kind).toBe('bounce');
    expect(parseReport(lf.replace(/\n/g, '\r\n'))).toEqual(reference);
    expect(parseReport(lf.replace(/\n/g, '\r'))).toEqual(reference);
    const mixed = lf
      .split('\n')
      .map((line, i) => line + (i % 3 === 0 ? '\r\n' : i % 3 === 1 ? '\r' : '\n'))
      .join('');
    expect(parseReport(mixed)).toEqual(reference);
  });

  it('reads a Buffer and a string alike', () => {
    expect(parseReport(Buffer.from(lf))).toEqual(reference);
  });
});

describe('broken input', () => {
  it('empty, garbage and binary input give kind other with a reason', () => {
    for (const input of [
      '',
      '   \n\n',
      'garbage without any header',
      Buffer.from([0, 255, 1, 2, 13, 10]),
    ]) {
      const parsed = parseReport(input);
      expect(parsed.kind).toBe('other');
      expect(parsed.reason).toBeTruthy();
      expect(parsed.recipients).toEqual([]);
    }
  });

  it('a DSN truncated anywhere never throws', () => {
    const dsn = readFileSync(
      labels('bounces').find((r) => r.file === 'lhost-postfix-02.eml')!.path,
    );
    const kinds = new Set<string>();
    for (let end = 0; end <= dsn.length; end += 37) {
      const parsed = parseReport(dsn.subarray(0, end));
      kinds.add(parsed.kind);
      if (parsed.kind === 'other') expect(parsed.reason).toBeTruthy();
    }
    expect(kinds).toContain('other');
    expect(kinds).toContain('bounce');
  });

  it('a multipart whose boundary never appears is read as text', () => {
    const raw = [
      'From: MAILER-DAEMON@example.org',
      'Subject: Undelivered Mail Returned to Sender',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="missing"',
      '',
      '<kijitora@example.jp>: host mx.example.jp[192.0.2.1] said: 550 5.1.1 <kijitora@example.jp>:',
      '    Recipient address rejected: User unknown (in reply to RCPT TO command)',
    ].join('\n');
    const parsed = parseReport(raw);
    expect(parsed.kind).toBe('bounce');
    expect(parsed.recipients[0]).toMatchObject({
      address: 'kijitora@example.jp',
      status: '5.1.1',
      replyCode: 550,
    });
  });

  it('only the first 256 KB of a huge message are read', () => {
    const head =
      'From: MAILER-DAEMON@example.org\nSubject: failure notice\n\n<a@example.jp>:\nRemote host said: 550 5.1.1 no such user\n\n';
    const parsed = parseReport(head + 'x'.repeat(20 * 1024 * 1024));
    expect(parsed.kind).toBe('bounce');
    expect(parsed.recipients[0]?.address).toBe('a@example.jp');
  });

  it('deeply nested multiparts are cut off, not recursed without bound', () => {
    let raw = 'Subject: x\nContent-Type: multipart/mixed; boundary="b0"\n\n';
    for (let i = 1; i < 200; i++)
      raw += `--b${i - 1}\nContent-Type: multipart/mixed; boundary="b${i}"\n\n`;
    expect(parseReport(raw).kind).toBe('other');
  });
});

describe('auto-replies', () => {
  it('RFC 3834 headers make an auto-reply, not a bounce', () => {
    const raw = [
      'From: kijitora@example.jp',
      'Subject: Out of Office: Nyaan',
      'Auto-Submitted: auto-replied',
      'Return-Path: <>',
      '',
      'I am away until Monday; your message about 550 5.1.1 will be read then.',
    ].join('\r\n');
    expect(parseReport(raw).kind).toBe('autoreply');
  });

  it('X-Autoreply and Precedence auto_reply alone are enough', () => {
    expect(
      parseReport('From: a@example.jp\nX-Autoreply: yes\nSubject: Re: hi\n\nthanks').kind,
    ).toBe('autoreply');
    expect(
      parseReport('From: a@example.jp\nPrecedence: auto_reply\nSubject: Re: hi\n\nthanks').kind,
    ).toBe('autoreply');
  });

  it('a bounce carrying Auto-Submitted (as Postfix and Exim add) stays a bounce', () => {
    const raw = [
      'From: Mail Delivery System <MAILER-DAEMON@example.org>',
      'Subject: Mail delivery failed: returning message to sender',
      'Auto-Submitted: auto-replied',
      '',
      'A message that you sent could not be delivered to one or more of its',
      'recipients. This is a permanent error. The following address(es) failed:',
      '',
      '  kijitora@example.jp',
      '    host mx.example.jp [192.0.2.1]',
      '    SMTP error from remote mail server after RCPT TO:<kijitora@example.jp>:',
      '    550 5.1.1 User unknown',
    ].join('\n');
    const parsed = parseReport(raw);
    expect(parsed.kind).toBe('bounce');
    expect(parsed.recipients[0]).toMatchObject({ address: 'kijitora@example.jp', status: '5.1.1' });
  });
});

describe('adversarial shapes', () => {
  // Each once cost seconds to minutes (a quadratic scan); now they finish with a verdict.
  const bounceHead = 'From: MAILER-DAEMON@example.org\nSubject: failure notice\n\n';
  it('bodies of repeated header-like lines, recipient lines and boundaries are read', () => {
    expect(parseReport(bounceHead + 'From: a\nTo: b\n\n'.repeat(20_000)).kind).toBe('other');
    const many = Array.from({ length: 20_000 }, (_, i) => `<a${i}@example.jp>: 550 5.1.1 x\n`);
    const parsed = parseReport(bounceHead + many.join(''));
    expect(parsed.kind).toBe('bounce');
    expect(parsed.recipients.length).toBeLessThanOrEqual(500);
    expect(parsed.recipients[0]).toMatchObject({ address: 'a0@example.jp', status: '5.1.1' });
    const boundaries =
      'Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n' + '--b\n\n'.repeat(40_000);
    expect(parseReport(boundaries).kind).toBe('other');
  });
});

describe('non-standard notice shapes', () => {
  const notice = (body: string): string =>
    `From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n\n${body}\n`;

  it.each([
    [
      'qmail',
      '<a@example.jp>:\n192.0.2.1 does not like recipient.\nRemote host said: 550 5.1.1 no such user',
      550,
      '5.1.1',
    ],
    [
      'Zoho',
      'a@example.jp Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <a@example.jp>... User Unknown',
      550,
      '5.1.1',
    ],
    [
      'Mail2000',
      '---The following addresses had delivery errors---\na@example.jp [User unknown]',
      undefined,
      undefined,
    ],
    [
      'Sendmail transcript',
      '... while talking to mx.example.jp.:\n>>> RCPT To:<a@example.jp>\n<<< 550 5.1.1 <a@example.jp>... User unknown',
      550,
      '5.1.1',
    ],
    [
      'Gmail',
      'Delivery to the following recipient failed permanently:\n\n     a@example.jp\n\nTechnical details of permanent failure:\n550 5.2.1 The email account that you tried to reach is disabled.',
      550,
      '5.2.1',
    ],
  ])('%s', (_system, body, replyCode, status) => {
    const parsed = parseReport(notice(body));
    expect(parsed.kind).toBe('bounce');
    expect(parsed.recipients[0]?.address).toBe('a@example.jp');
    expect(parsed.recipients[0]?.replyCode).toBe(replyCode);
    expect(parsed.recipients[0]?.status).toBe(status);
  });
});

describe('reason-first notice lines', () => {
  it('reads `Reason: <rcpt>` and ignores `To: <sender>` summary lines', () => {
    const parsed = parseReport(
      "From: MAILER-DAEMON@example.com\nSubject: Returned mail: x\n\n  To: <me@example.org>\nUser's mailbox is full: <a@example.jp>\nUnable to deliver mail.\n",
    );
    expect(parsed.kind).toBe('bounce');
    expect(parsed.recipients.map((r) => r.address)).toEqual(['a@example.jp']);
    expect(parsed.recipients[0]?.diagnostic).toContain("User's mailbox is full");
  });
});
