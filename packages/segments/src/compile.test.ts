import { RelaisError } from '@relais/domain';
import { describe, expect, it } from 'vitest';
import { compileSegment } from './compile';
import { parseSegmentRule } from './schema';

const NOW = new Date('2026-01-10T00:00:00Z');

function compile(rule: unknown, options: { alias?: string; firstParam?: number } = {}) {
  return compileSegment(parseSegmentRule(rule), { now: NOW, ...options });
}

const HOSTILE = [
  "'; DROP TABLE contacts; --",
  '$1) OR TRUE OR ($1',
  '" OR 1=1 --',
  "\\'; SELECT pg_sleep(10); --",
  '*/ TRUE /*',
  'ARRAY[1]::text[]',
];

/** Rules whose strings (keys, values, tags) all come from `text`. */
function rulesOf(text: string): unknown[] {
  return [
    { attribute: text, op: '=', value: text },
    { attribute: [text, text], op: '!=', value: text },
    { attribute: text, op: 'in', value: [text, text] },
    { attribute: text, op: 'contains', value: text },
    { attribute: text, op: '>=', value: text },
    { attribute: text, op: '<', value: 1 },
    { attribute: text, op: '<', value: { date: '2026-01-01' } },
    { attribute: text, op: 'exists' },
    { tag: text },
    { tags: { any: [text, text] } },
    { field: 'email', op: 'contains', value: text },
    { field: 'email', op: 'in', value: [text] },
    { field: 'emailDomain', op: '=', value: text.replaceAll('@', '') },
  ];
}

describe('compileSegment', () => {
  it('compiles a tag to array containment', () => {
    expect(compile({ tag: 'vip' })).toEqual({
      sql: '(c.tags @> ARRAY[$1::text])',
      params: ['vip'],
    });
  });

  it('compiles equality to jsonb containment of the nested path', () => {
    expect(compile({ attribute: 'address.city', op: '=', value: 'Paris' })).toEqual({
      sql: '(c.attributes @> $1::jsonb)',
      params: ['{"address":{"city":"Paris"}}'],
    });
  });

  it('compiles != as the exact negation of =', () => {
    expect(compile({ attribute: 'plan', op: '!=', value: 'pro' }).sql).toBe(
      '(NOT c.attributes @> $1::jsonb)',
    );
  });

  it('numbers placeholders from firstParam under the given alias', () => {
    const { sql, params } = compile(
      { and: [{ tag: 'a' }, { field: 'status', op: 'in', value: ['active', 'unsubscribed'] }] },
      { alias: 'ct', firstParam: 4 },
    );
    expect(sql).toBe('((ct.tags @> ARRAY[$4::text]) AND (ct.status IN ($5, $6)))');
    expect(params).toEqual(['a', 'active', 'unsubscribed']);
  });

  it('binds an attribute path once however often the fragment reads it', () => {
    const { sql, params } = compile({ attribute: 'age', op: '>', value: 30 });
    expect(params).toEqual([['age'], '30']);
    expect(sql).toBe(
      "(CASE WHEN jsonb_typeof(c.attributes #> $1::text[]) = 'number' THEN c.attributes #> $1::text[] > $2::jsonb ELSE false END)",
    );
  });

  it('compiles all: true to TRUE and unwraps a single child', () => {
    expect(compile({ all: true }).sql).toBe('TRUE');
    expect(compile({ or: [{ and: [{ all: true }] }] }).sql).toBe('TRUE');
  });

  it('escapes LIKE wildcards in contains values', () => {
    expect(compile({ attribute: 'note', op: 'contains', value: '50%_off\\' }).params).toEqual([
      '{"note":["50%_off\\\\"]}',
      ['note'],
      '%50\\%\\_off\\\\%',
    ]);
    expect(compile({ field: 'email', op: 'contains', value: 'A_B' }).params).toEqual(['%a\\_b%']);
  });

  it('resolves daysAgo against the injected now', () => {
    expect(compile({ field: 'createdAt', op: '>', value: { daysAgo: 30 } })).toEqual({
      sql: '(c.created_at > $1::timestamptz)',
      params: ['2025-12-11T00:00:00.000Z'],
    });
  });

  it('normalizes email and domain values the way contacts stores them', () => {
    expect(compile({ field: 'email', op: '=', value: ' Bob@Example.COM ' }).params).toEqual([
      'bob@example.com',
    ]);
    expect(
      compile({ field: 'emailDomain', op: 'in', value: ['MÜNCHEN.de', 'Example.com.'] }).params,
    ).toEqual(['xn--mnchen-3ya.de', 'example.com']);
  });

  it('keeps a "__proto__" key an ordinary key', () => {
    expect(compile({ attribute: '__proto__.polluted', op: '=', value: true }).params).toEqual([
      '{"__proto__":{"polluted":true}}',
    ]);
  });

  it.each(HOSTILE)('produces the same SQL text for %j as for a harmless string', (text) => {
    const harmless = rulesOf('x');
    for (const [index, rule] of rulesOf(text).entries()) {
      const compiled = compile(rule);
      expect(compiled.sql).toBe(compile(harmless[index]).sql);
      expect(compiled.sql).not.toContain(text);
    }
  });

  it('emits only its own placeholders, each with a value', () => {
    const { sql, params } = compile({ or: rulesOf('v') }, { firstParam: 2 });
    const used = new Set([...sql.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])));
    expect([...used].sort((a, b) => a - b)).toEqual(params.map((_, index) => index + 2));
  });

  it('refuses an alias that is not a plain identifier', () => {
    expect(() => compileSegment({ all: true }, { alias: 'c; DROP TABLE x' })).toThrow(RelaisError);
    expect(() => compileSegment({ all: true }, { firstParam: 0 })).toThrow(
      'firstParam must be a whole number',
    );
  });
});
