import { describe, expect, it } from 'vitest';
import { classifyReply } from './classify-reply';
import { parseReply } from './reply';

describe('classifyReply', () => {
  it.each([
    ['250 2.0.0 OK queued as 1234', { kind: 'delivered' }],
    ['452 4.2.2 mailbox full, over quota', { kind: 'deferred', reason: 'mailbox_full' }],
    ['451 4.7.1 greylisted, try again later', { kind: 'deferred', reason: 'greylisted_or_policy' }],
    ['421 4.7.0 rate limited, try again later', { kind: 'deferred', reason: 'throttled' }],
    ['450 mailbox busy', { kind: 'deferred', reason: 'temporary_failure' }],
    [
      '550 5.1.1 the email account does not exist',
      { kind: 'bounced', reason: 'userunknown', hard: true },
    ],
    ['552 5.2.2 mailbox full', { kind: 'bounced', reason: 'mailboxfull', hard: false }],
    ['550 5.7.26 unauthenticated email', { kind: 'bounced', reason: 'authfailure', hard: false }],
    ['554 5.7.1 relay access denied', { kind: 'bounced', reason: 'norelaying', hard: false }],
    ['552 5.3.4 message too large', { kind: 'bounced', reason: 'mesgtoobig', hard: false }],
    ['550 mailbox unavailable', { kind: 'bounced', reason: 'userunknown', hard: true }],
    [
      '556 5.1.10 recipient domain accepts no mail (null MX)',
      { kind: 'bounced', reason: 'notaccept', hard: true },
    ],
    [
      '550 5.7.1 client host [192.0.2.1] blocked using zen.spamhaus.org',
      { kind: 'bounced', reason: 'blocked', hard: false },
    ],
    ['554 transaction failed', { kind: 'bounced', reason: 'undefined', hard: false }],
  ])('classifies %s', (line, expected) => {
    expect(classifyReply(parseReply(line))).toMatchObject(expected);
  });

  it('defers when the reply code is missing', () => {
    expect(classifyReply({ text: 'ECONNECTION: connect ECONNREFUSED 10.2.0.1:25' })).toEqual({
      kind: 'deferred',
      reason: 'no_reply',
    });
  });
});

describe('parseReply', () => {
  it('splits the basic code, the enhanced code and the text', () => {
    expect(parseReply('550 5.1.1 no such user')).toEqual({
      code: 550,
      enhanced: '5.1.1',
      text: '550 5.1.1 no such user',
    });
  });

  it('does not mistake an IP address in an error message for an enhanced code', () => {
    expect(parseReply('ETIMEDOUT: connect to 10.2.0.1 timed out')).toEqual({
      text: 'ETIMEDOUT: connect to 10.2.0.1 timed out',
    });
  });

  it('drops an enhanced code whose class contradicts the basic code', () => {
    expect(parseReply('450 5.1.1 odd server').enhanced).toBeUndefined();
  });

  it('uses the client library code when the text has none', () => {
    expect(parseReply('4.4.2 connection dropped', 421)).toMatchObject({
      code: 421,
      enhanced: '4.4.2',
    });
  });

  it('truncates long replies to what the event schema accepts', () => {
    expect(parseReply(`250 ${'x'.repeat(5000)}`).text).toHaveLength(2000);
  });
});
