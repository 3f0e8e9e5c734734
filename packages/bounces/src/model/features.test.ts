import { describe, expect, it } from 'vitest';
import { diagnosticWords, extractFeatures, normalizeDiagnostic } from './features';

describe('normalizeDiagnostic', () => {
  it.each([
    ['550 5.1.1 <kijitora@example.co.jp>... User Unknown', 'xaddr'],
    ['host mx49.neko.example.co.jp [192.0.2.82]: 553 unknown user', 'xhost'],
    ['banned sending IP [198.51.100.222]', 'xip'],
    ['See https://libsisimai.org/en/reason/#filtered', 'xurl'],
    ['Reject, id=20025-09 - SPAM [TYCP286MB3363]', 'xid'],
    ['550-5.7.26 unauthenticated', 'xstatus'],
    ['retried for 2 more day(s)', 'xnum'],
  ])('replaces the value in %j by %s', (text, placeholder) => {
    expect(normalizeDiagnostic(text)).toContain(placeholder);
  });

  it('never lets an address, host, number or id become a word', () => {
    const text =
      'host mx.example.jp [192.0.2.20]: 554 5.7.0 <neko-22@nyaan.example.org> rejected, ' +
      'ref OFR006_102 queue 7d39d5299584f4be see http://csi.cloudmark.com/reset-request ' +
      'from 2001:db8::1 after 840 minutes';
    const words = diagnosticWords(text);
    expect(words).toEqual(
      'host xhost xip xaddr rejected ref xid queue xid see xurl from xip after minutes'.split(' '),
    );
    for (const word of words) expect(word).toMatch(/^\p{L}+$/u);
    expect(words.join(' ')).not.toMatch(/neko|nyaan|example|cloudmark|mx/);
  });

  it('keeps non-Latin words', () => {
    expect(diagnosticWords('Рекомендуем Вам проверить')).toEqual([
      'рекомендуем',
      'вам',
      'проверить',
    ]);
  });
});

describe('extractFeatures', () => {
  it('gives words, bigrams, the status parts, the reply code and the command', () => {
    const features = extractFeatures({
      diagnostic: 'SMTP error from remote mail server after RCPT TO: 550 User unknown',
      status: '5.1.1',
      replyCode: 550,
      subject: 'Mail delivery failed',
    });
    expect(features).toEqual(
      expect.arrayContaining([
        'w:user',
        'w:unknown',
        'b:user unknown',
        'st:5',
        'st:1.1',
        'st:5.1.1',
        'st:x.1',
        'code:550',
        'code:5xx',
        'cmd:rcpt',
        's:delivery',
      ]),
    );
    expect(new Set(features).size).toBe(features.length);
  });

  it('marks a diagnostic without words and adds nothing for a missing status or code', () => {
    expect(extractFeatures({ diagnostic: '' })).toEqual(['empty']);
    expect(extractFeatures({ diagnostic: '12345 ...' })).toEqual(['empty']);
  });

  it('prefers the given command over one found in the text', () => {
    expect(extractFeatures({ diagnostic: 'after RCPT TO', command: 'MAIL FROM' })).toContain(
      'cmd:mail',
    );
    expect(extractFeatures({ diagnostic: 'after initial connection: 554' })).toContain(
      'cmd:connect',
    );
  });
});
