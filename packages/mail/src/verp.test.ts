import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { unsubscribeToken } from './unsubscribe';
import { parseVerp, verpAddress } from './verp';

const secret = 'verp-secret-verp-secret-verp-secret!';
const oldSecret = 'an-older-secret-still-honoured-for-bounces';
const messageId = '0190f3c2-7b1e-7c3a-9d4e-1f2a3b4c5d6e';

describe('verpAddress', () => {
  it('makes a lowercase local part within the 64 octets of RFC 5321', () => {
    const address = verpAddress({ messageId, bounceDomain: 'Bounces.Example', secret });
    const [local, domain] = address.split('@');
    expect(local).toMatch(/^b-[a-z2-7]+$/);
    expect(local!.length).toBeLessThanOrEqual(64);
    expect(domain).toBe('bounces.example');
  });

  it('refuses a message id that is not a UUID', () => {
    expect(() => verpAddress({ messageId: 'abc', bounceDomain: 'b.example', secret })).toThrow(
      /UUID/,
    );
  });
});

describe('parseVerp', () => {
  const address = verpAddress({ messageId, bounceDomain: 'bounces.example', secret });

  it('reads the message id back', () => {
    expect(parseVerp(address, secret)).toEqual({ ok: true, messageId });
  });

  it('reads an address whose local part an MTA upper-cased', () => {
    expect(parseVerp(address.toUpperCase(), secret)).toEqual({ ok: true, messageId });
  });

  it('accepts a retired secret listed after the current one', () => {
    const old = verpAddress({ messageId, bounceDomain: 'bounces.example', secret: oldSecret });
    expect(parseVerp(old, [secret, oldSecret])).toEqual({ ok: true, messageId });
  });

  it.each([
    ['another message id under the same MAC', () => swapId(address)],
    [
      'a MAC from another secret',
      () => verpAddress({ messageId, bounceDomain: 'bounces.example', secret: oldSecret }),
    ],
    ['one flipped character', () => flipLastChar(address)],
  ])('calls %s forged', (_label, make) => {
    expect(parseVerp(make(), secret)).toEqual({ ok: false, reason: 'forged' });
  });

  it.each([
    ['postmaster@bounces.example', 'unknown'],
    ['mailer-daemon', 'unknown'],
    ['b-abc@bounces.example', 'malformed'],
    ['b-@bounces.example', 'malformed'],
    [`${address.split('@')[0]}xy@bounces.example`, 'malformed'],
    [`b-${'1'.repeat(44)}@bounces.example`, 'malformed'],
  ])('calls %s %s', (input, reason) => {
    expect(parseVerp(input, secret)).toEqual({ ok: false, reason });
  });

  it('does not take an unsubscribe token for a VERP token', () => {
    // Same secret, same id: the purpose in the MAC input keeps the two apart.
    const token = unsubscribeToken({ messageId: randomUUID(), secret });
    expect(parseVerp(`b-${token.toLowerCase()}@bounces.example`, secret).ok).toBe(false);
  });
});

function swapId(address: string): string {
  const other = verpAddress({ messageId: randomUUID(), bounceDomain: 'bounces.example', secret });
  // First 2 + 28 characters carry version and id (140 bits ≥ 136), the rest the MAC.
  return `${other.slice(0, 30)}${address.slice(30)}`;
}

function flipLastChar(address: string): string {
  const at = address.indexOf('@');
  const last = address[at - 1] === 'a' ? 'q' : 'a';
  return `${address.slice(0, at - 1)}${last}${address.slice(at)}`;
}
