import { describe, expect, it } from 'vitest';
import type { MessageId } from '@relais/domain';
import { addTracking, checkTrackingBase } from './tracking-html';
import { linkKeyOf, trackingToken, verifyTrackingToken } from './tracking-token';

const secret = 'tracking-secret-tracking-secret-tracking';
const older = 'older-secret-older-secret-older-secret!!';
const messageId = '0190f3c2-7b1e-7c3a-9d4e-1f2a3b4c5d6e' as MessageId;
const now = new Date('2026-11-27T10:00:00Z');
const day = 86_400_000;
const claims = {
  kind: 'click' as const,
  messageId,
  linkKey: linkKeyOf('https://shop.example/a'),
  linkIndex: 2,
  linkCount: 3,
  issuedAt: now,
};

describe('trackingToken', () => {
  const token = trackingToken(claims, secret);

  it('round-trips its claims under the same key', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{66}$/);
    expect(verifyTrackingToken(token, secret, { now, maxAgeMs: day })).toEqual({
      ok: true,
      claims,
    });
  });

  it('verifies a token of a retired key during a rotation, by key id', () => {
    const old = trackingToken(claims, older);
    expect(verifyTrackingToken(old, [secret, older], { now, maxAgeMs: day }).ok).toBe(true);
    expect(verifyTrackingToken(old, [secret], { now, maxAgeMs: day })).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('refuses every single-character edit', () => {
    let accepted = 0;
    for (let index = 0; index < token.length; index++) {
      const swapped = token[index] === 'A' ? 'B' : 'A';
      const edited = token.slice(0, index) + swapped + token.slice(index + 1);
      if (verifyTrackingToken(edited, secret, { now, maxAgeMs: day }).ok) accepted += 1;
    }
    expect(accepted).toBe(0);
  });

  it.each(['', 'short', `${'A'.repeat(65)}`, `${'A'.repeat(67)}`, `${'!'.repeat(66)}`])(
    'calls %j malformed',
    (input) => {
      expect(verifyTrackingToken(input, secret, { now, maxAgeMs: day })).toEqual({
        ok: false,
        reason: 'malformed',
      });
    },
  );

  it('refuses a token older than the lifetime', () => {
    const later = new Date(now.getTime() + 2 * day);
    expect(verifyTrackingToken(token, secret, { now: later, maxAgeMs: day })).toEqual({
      ok: false,
      reason: 'expired',
    });
  });
});

describe('addTracking', () => {
  const html =
    '<html><body><a href="https://shop.example/a?x=1&amp;y=2">A</a> <a class="b" href=\'http://b.example/\'>B</a>' +
    ' <a href="mailto:x@y.example">M</a> <a href="https://u.example/u/TOKEN">unsubscribe</a>' +
    ' <a data-relais-notrack href="https://keep.example/">K</a></body></html>';
  const tracked = addTracking(html, {
    baseUrl: 'https://t.example/',
    messageId,
    secret,
    now,
    keep: ['https://u.example/u/'],
  });

  it('rewrites http(s) links to signed click URLs and keeps the targets apart', () => {
    expect(tracked.links).toEqual([
      { key: linkKeyOf('https://shop.example/a?x=1&y=2'), url: 'https://shop.example/a?x=1&y=2' },
      { key: linkKeyOf('http://b.example/'), url: 'http://b.example/' },
    ]);
    const clicks = [...tracked.html.matchAll(/https:\/\/t\.example\/c\/([A-Za-z0-9_-]{66})/g)];
    expect(clicks).toHaveLength(2);
    const second = verifyTrackingToken(clicks[1]![1]!, secret, { now, maxAgeMs: day });
    expect(second.ok && second.claims).toMatchObject({ linkIndex: 2, linkCount: 2 });
    expect(tracked.html).not.toContain('shop.example');
  });

  it('leaves mailto, the unsubscribe link and notrack links alone', () => {
    expect(tracked.html).toContain('mailto:x@y.example');
    expect(tracked.html).toContain('https://u.example/u/TOKEN');
    expect(tracked.html).toContain('https://keep.example/');
  });

  it('leaves a link holding the recipient address direct, plain or percent-encoded', () => {
    const personal = addTracking(
      '<a href="https://shop.example/?e=Ana%40x.example">1</a><a href="https://shop.example/u/ana@x.example">2</a><a href="https://shop.example/">3</a>',
      { baseUrl: 'https://t.example', messageId, secret, now, recipient: 'ana@x.example' },
    );
    expect(personal.links.map((link) => link.url)).toEqual(['https://shop.example/']);
    expect(personal.html).toContain('https://shop.example/?e=Ana%40x.example');
  });

  it('adds one open pixel before </body>', () => {
    expect(tracked.html).toMatch(
      /<img src="https:\/\/t\.example\/o\/[A-Za-z0-9_-]{66}\.gif"[^>]*><\/body>/,
    );
  });

  it('accepts http only on a loopback host', () => {
    expect(checkTrackingBase('http://127.0.0.1:8085/')).toBe('http://127.0.0.1:8085');
    expect(() => checkTrackingBase('http://t.example')).toThrow(/https/);
    expect(() => checkTrackingBase('https://t.example/?a=1')).toThrow(/query/);
  });
});
