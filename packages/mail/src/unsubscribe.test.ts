import { describe, expect, it } from 'vitest';
import { unsubscribeUrl, verifyUnsubscribeToken } from './unsubscribe';
import { verpAddress } from './verp';

const secret = 'unsubscribe-secret-unsubscribe-secret';
const messageId = '0190f3c2-7b1e-7c3a-9d4e-1f2a3b4c5d6e';

describe('unsubscribeUrl', () => {
  it('puts a signed token after /u/ and nothing else', () => {
    const url = unsubscribeUrl({ baseUrl: 'https://u.acme.example/mail/', messageId, secret });
    expect(url).toMatch(/^https:\/\/u\.acme\.example\/mail\/u\/[A-Za-z0-9_-]{44}$/);
  });

  it.each(['http://u.acme.example', 'https://u.acme.example/?a=1', 'https://x:y@u.acme.example'])(
    'refuses the base URL %s',
    (baseUrl) => {
      expect(() => unsubscribeUrl({ baseUrl, messageId, secret })).toThrow(/unsubscribe base URL/);
    },
  );
});

describe('verifyUnsubscribeToken', () => {
  const token = unsubscribeUrl({ baseUrl: 'https://u.acme.example', messageId, secret }).split(
    '/u/',
  )[1]!;

  it('returns the message id of a token it signed', () => {
    expect(verifyUnsubscribeToken(token, secret)).toEqual({ ok: true, messageId });
  });

  it('calls a token with a changed MAC forged', () => {
    const tampered = `${token.slice(0, 40)}${token.slice(40) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect(verifyUnsubscribeToken(tampered, secret)).toEqual({ ok: false, reason: 'forged' });
  });

  it('calls a token signed with another secret forged', () => {
    expect(verifyUnsubscribeToken(token, 'another-secret-another-secret-another')).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it.each(['', 'abc', `${token}A`, `${token.slice(0, 43)}+`, token.replace(/^./, '%')])(
    'calls %j malformed',
    (input) => {
      expect(verifyUnsubscribeToken(input, secret)).toEqual({ ok: false, reason: 'malformed' });
    },
  );

  it('does not take a VERP token for an unsubscribe token', () => {
    const verp = verpAddress({ messageId, bounceDomain: 'b.example', secret });
    expect(verifyUnsubscribeToken(verp.slice(2, 46), secret).ok).toBe(false);
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => verifyUnsubscribeToken(token, 'short')).toThrow(/32 bytes/);
  });
});
