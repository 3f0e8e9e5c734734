import { describe, expect, it } from 'vitest';
import { classifySmtpReply } from './classify';
import { BOUNCE_REASONS, HARD_REASONS } from './reasons';
import { STATUS_RULES, TEXT_RULES } from './rules';

/** A reply line as servers send it: the basic code is its first three digits. */
function reply(line: string) {
  const code = /^([2-5]\d\d)[ -]/.exec(line)?.[1];
  return { ...(code === undefined ? {} : { code: Number(code) }), text: line };
}

describe('classifySmtpReply on real-world replies', () => {
  it.each([
    // Gmail
    [
      "550-5.1.1 The email account that you tried to reach does not exist. Please try\n550-5.1.1 double-checking the recipient's email address for typos or\n550 5.1.1 https://support.google.com/mail/?p=NoSuchUser",
      'userunknown',
      true,
      '5.1.1',
    ],
    [
      '552-5.2.2 The email account that you tried to reach is over quota. Please direct\n552 5.2.2 the recipient to https://support.google.com/mail/?p=OverQuotaPerm',
      'mailboxfull',
      false,
      '5.2.2',
    ],
    [
      '550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.',
      'authfailure',
      false,
      '5.7.26',
    ],
    [
      '421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.',
      'speeding',
      false,
      '4.7.28',
    ],
    ['421 4.7.0 Try again later, closing connection.', 'systemerror', false, '4.7.0'],
    [
      '550-5.7.25 The IP address sending this message does not have a PTR record setup',
      'requireptr',
      false,
      '5.7.25',
    ],
    ["552-5.3.4 Your message exceeded Google's message size limits.", 'mesgtoobig', false, '5.3.4'],
    // Outlook / Microsoft 365
    ['550 5.5.0 Requested action not taken: mailbox unavailable', 'userunknown', true, '5.5.0'],
    // Directory-based edge blocking: Microsoft 365 refuses recipients its directory lacks.
    [
      '550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]',
      'userunknown',
      true,
      '5.4.1',
    ],
    [
      "550 5.7.1 Unfortunately, messages from [192.0.2.10] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
      'blocked',
      false,
      '5.7.1',
    ],
    [
      '451 4.7.500 Server busy. Please try again later from [192.0.2.10]. (S77719)',
      'systemerror',
      false,
      '4.7.500',
    ],
    // Yahoo / AOL
    [
      "554 delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - mta1234.mail.ne1.yahoo.com",
      'userunknown',
      true,
      undefined,
    ],
    [
      '421 4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred due to unexpected volume or user complaints',
      'systemerror',
      false,
      '4.7.0',
    ],
    ['554 5.7.9 Message not accepted for policy reasons.', 'policyviolation', false, '5.7.9'],
    // Postfix, Exim, Sendmail and friends
    [
      '550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
      'userunknown',
      true,
      '5.1.1',
    ],
    ['550 No such user here', 'userunknown', true, undefined],
    ['550 5.0.0 <x@example.org>... User unknown', 'userunknown', true, '5.0.0'],
    ['550 Unrouteable address', 'hostunknown', true, undefined],
    ['452 4.2.2 Mailbox full', 'mailboxfull', false, '4.2.2'],
    [
      '552 Requested mail action aborted: exceeded storage allocation',
      'mailboxfull',
      false,
      undefined,
    ],
    ['550 5.2.1 The email account that you tried to reach is disabled.', 'suspend', false, '5.2.1'],
    [
      '550 5.7.1 Service unavailable; client host [192.0.2.10] blocked using zen.spamhaus.org',
      'blocked',
      false,
      '5.7.1',
    ],
    ['554 5.7.1 <x@example.org>: Relay access denied', 'norelaying', false, '5.7.1'],
    ['550 5.7.1 Message rejected as spam by Content Filtering.', 'spamdetected', false, '5.7.1'],
    ['554 5.7.1 Message infected with a virus', 'virusdetected', false, '5.7.1'],
    [
      '421 4.7.0 Too many concurrent SMTP connections from this IP address',
      'toomanyconn',
      false,
      '4.7.0',
    ],
    ['450 4.7.1 Rate limit exceeded, try again later', 'speeding', false, '4.7.1'],
    ['452 4.3.1 Insufficient system storage', 'systemfull', false, '4.3.1'],
    ['556 5.1.10 recipient domain accepts no mail (null MX)', 'notaccept', true, '5.1.10'],
    [
      '550 5.1.2 Host unknown (Name server: example.invalid: host not found)',
      'hostunknown',
      true,
      '5.1.2',
    ],
    ['550 5.1.6 Recipient has moved; please update your records', 'hasmoved', true, '5.1.6'],
    ['554 5.3.2 This domain does not accept mail', 'notaccept', true, '5.3.2'],
    ['554 5.4.7 Delivery time expired', 'expired', false, '5.4.7'],
    ['550 5.7.23 SPF validation failed', 'authfailure', false, '5.7.23'],
    ['553 5.1.8 Sender address rejected: Domain not found', 'rejected', false, '5.1.8'],
    ['451 4.3.0 Temporary local problem, please try again later', 'systemerror', false, '4.3.0'],
    ['550 Requested action not taken: mailbox unavailable', 'userunknown', true, undefined],
    ['550 Administrative prohibition', 'policyviolation', false, undefined],
    ['554 Transaction failed', 'undefined', false, undefined],
  ])('%s → %s', (line, reason, hard, status) => {
    const result = classifySmtpReply(reply(line));
    expect(result).toMatchObject({ reason, hard });
    expect(result.status).toBe(status);
    expect(result.confidence).toBeGreaterThan(0);
    expect(result.confidence).toBeLessThanOrEqual(1);
  });
});

describe('classifySmtpReply', () => {
  it('prefers the enhanced code given over one found in the text', () => {
    expect(
      classifySmtpReply({ code: 550, enhanced: '5.2.2', text: '550 5.1.1 relayed reply' }),
    ).toMatchObject({ reason: 'mailboxfull', status: '5.2.2' });
  });

  it('keeps a hard reason soft when the reply is temporary', () => {
    expect(classifySmtpReply({ code: 450, text: '450 4.1.1 user unknown (try later)' })).toEqual({
      reason: 'userunknown',
      hard: false,
      confidence: 0.95,
      status: '4.1.1',
    });
  });

  it('drops an enhanced code whose class contradicts the reply code', () => {
    const result = classifySmtpReply({
      code: 450,
      text: '450 5.1.1 mailbox busy, try again later',
    });
    expect(result.status).toBeUndefined();
    expect(result).toMatchObject({ reason: 'systemerror', hard: false });
  });

  it('does not read an IP address as an enhanced code', () => {
    expect(
      classifySmtpReply({ code: 550, text: '550 connection from 5.1.1.20 refused' }).status,
    ).toBeUndefined();
  });

  it('treats a class-5 status as permanent when the reply code is absent (a DSN field)', () => {
    expect(classifySmtpReply({ enhanced: '5.1.1', text: 'Status: 5.1.1' }).hard).toBe(true);
    expect(classifySmtpReply({ text: 'ECONNREFUSED user unknown' }).hard).toBe(false);
  });

  it('lets a specific status decide even when the text suggests something else', () => {
    expect(classifySmtpReply({ code: 552, text: '552 5.2.2 spam folder over quota' }).reason).toBe(
      'mailboxfull',
    );
  });
});

describe('rule tables', () => {
  it('use only reasons of the taxonomy', () => {
    const known = new Set<string>(BOUNCE_REASONS);
    const used = [...STATUS_RULES, ...TEXT_RULES].map((rule) => rule.reason);
    expect(used.filter((reason) => !known.has(reason))).toEqual([]);
    expect([...HARD_REASONS].every((reason) => known.has(reason))).toBe(true);
  });

  it('keep confidences within 0..1 and status keys without the class digit', () => {
    for (const rule of [...STATUS_RULES, ...TEXT_RULES]) {
      expect(rule.confidence).toBeGreaterThan(0);
      expect(rule.confidence).toBeLessThanOrEqual(1);
    }
    expect(STATUS_RULES.filter((rule) => !/^\d{1,3}\.(\d{1,3})?$/.test(rule.status))).toEqual([]);
  });
});
