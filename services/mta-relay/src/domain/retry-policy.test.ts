import { describe, expect, it } from 'vitest';
import { parseReply } from './reply';
import {
  DEFAULT_DEFERRAL_SCHEDULES,
  classifyDeferral,
  deferralDelayMs,
  isPastMaxAge,
} from './retry-policy';

describe('classifyDeferral', () => {
  it.each([
    ['451 4.7.1 greylisted, try again later', 'RCPT', false, 'greylisting'],
    [
      '450 4.2.0 Recipient address rejected: Greylisted for 300 seconds',
      'RCPT',
      false,
      'greylisting',
    ],
    ['452 4.2.2 mailbox full, over quota', 'RCPT', false, 'mailbox_full'],
    ['421 4.7.0 rate limited, try again later', 'RCPT', true, 'rate_limited'],
    ['421-4.7.28 unusual rate of unsolicited mail', 'DATA', false, 'rate_limited'],
    ['451 4.3.0 temporary failure', 'DATA', false, 'other'],
  ] as const)('reads %j at %s as %s', (text, command, throttled, expected) => {
    expect(classifyDeferral(parseReply(text), command, throttled).deferralClass).toBe(expected);
  });

  it('reads a failure without a reply as no connection', () => {
    const verdict = classifyDeferral(parseReply('ECONNREFUSED: connect refused'), 'CONN', false);
    expect(verdict.deferralClass).toBe('no_connection');
  });
});

describe('deferralDelayMs', () => {
  const s = DEFAULT_DEFERRAL_SCHEDULES;

  it('waits minutes after greylisting and hours for a full mailbox, the last step repeating', () => {
    expect(deferralDelayMs('greylisting', 1, s, 0)).toBe(120_000);
    expect(deferralDelayMs('mailbox_full', 1, s, 0)).toBe(3_600_000);
    expect(deferralDelayMs('mailbox_full', 9, s, 0)).toBe(6 * 3_600_000);
  });

  it('paces a rate-limited message by the controller, jittered and bounded', () => {
    expect(deferralDelayMs('rate_limited', 1, s, 4_000, () => 0.5)).toBe(6_000);
    expect(deferralDelayMs('rate_limited', 1, s, 0, () => 0)).toBe(s.rateLimitedMinMs);
    expect(deferralDelayMs('rate_limited', 1, s, 1e9, () => 0)).toBe(s.rateLimitedMaxMs);
  });
});

describe('isPastMaxAge', () => {
  it('expires a message first tried longer ago than the maximum age', () => {
    const first = '2026-01-01T00:00:00.000Z';
    const fiveDays = 5 * 86_400_000;
    expect(isPastMaxAge(first, Date.parse(first) + fiveDays - 1, fiveDays)).toBe(false);
    expect(isPastMaxAge(first, Date.parse(first) + fiveDays, fiveDays)).toBe(true);
  });
});
