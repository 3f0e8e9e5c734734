import { describe, expect, it } from 'vitest';
import { chooseExchange, derivedUuid, matchRoute, recipientDomain } from './destination';

describe('matchRoute', () => {
  const routes = [
    { pattern: 'gmail.test', host: 'a', port: 1 },
    { pattern: '*.example', host: 'b', port: 2 },
    { pattern: 'mail.example', host: 'c', port: 3 },
  ];

  it('uses the first matching pattern', () => {
    expect(matchRoute(routes, 'mail.example')).toEqual({ host: 'b', port: 2 });
    expect(matchRoute(routes, 'gmail.test')).toEqual({ host: 'a', port: 1 });
  });

  it('does not let a wildcard cover its own apex domain', () => {
    expect(matchRoute(routes, 'example')).toBeUndefined();
    expect(matchRoute(routes, 'sub.gmail.test')).toBeUndefined();
  });
});

describe('chooseExchange', () => {
  it('picks the most preferred exchange and drops the trailing dot', () => {
    expect(chooseExchange('d.test', [{ exchange: 'mx1.d.test.', priority: 10 }])).toEqual({
      kind: 'host',
      host: 'mx1.d.test',
    });
  });

  it('keeps the other exchanges in preference order for failover, each once', () => {
    expect(
      chooseExchange('d.test', [
        { exchange: 'mx3.d.test.', priority: 30 },
        { exchange: 'mx2.d.test.', priority: 20 },
        { exchange: 'MX1.d.test.', priority: 10 },
        { exchange: 'mx2.d.test', priority: 40 },
      ]),
    ).toEqual({ kind: 'host', host: 'mx1.d.test', fallbacks: ['mx2.d.test', 'mx3.d.test'] });
  });

  it('falls back to the domain itself when there is no MX (implicit MX)', () => {
    expect(chooseExchange('d.test', [])).toEqual({ kind: 'host', host: 'd.test' });
  });

  it('recognises a null MX (RFC 7505)', () => {
    expect(chooseExchange('d.test', [{ exchange: '.', priority: 0 }])).toEqual({ kind: 'null-mx' });
    expect(chooseExchange('d.test', [{ exchange: '', priority: 0 }])).toEqual({ kind: 'null-mx' });
  });
});

describe('helpers', () => {
  it('lowercases the recipient domain after the last @', () => {
    expect(recipientDomain('"a@b"@Mail.Example')).toBe('mail.example');
  });

  it('derives the same valid UUID from the same parts', () => {
    const id = derivedUuid('envelope', 'delivery.delivered', '1');
    expect(id).toBe(derivedUuid('envelope', 'delivery.delivered', '1'));
    expect(id).not.toBe(derivedUuid('envelope', 'delivery.delivered', '2'));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
