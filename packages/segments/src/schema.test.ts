import { RelaisError } from '@relais/domain';
import { describe, expect, it } from 'vitest';
import { LIMITS } from './rule';
import { parseSegmentRule, SegmentRuleError, SegmentRuleSchema, toJsonPointer } from './schema';

function failure(input: unknown): SegmentRuleError {
  try {
    parseSegmentRule(input);
  } catch (error) {
    expect(error).toBeInstanceOf(SegmentRuleError);
    return error as SegmentRuleError;
  }
  throw new Error('expected the rule to be refused');
}

/** The first problem's pointer and message. */
function firstIssue(input: unknown): { pointer: string; message: string } {
  const [issue] = failure(input).issues;
  return issue!;
}

function nestNot(depth: number): unknown {
  let rule: unknown = { tag: 'x' };
  for (let level = 1; level < depth; level++) rule = { not: rule };
  return rule;
}

describe('parseSegmentRule', () => {
  it.each([
    { all: true },
    { tag: 'vip' },
    { tags: { any: ['a', 'b'] } },
    { tags: { all: ['a'] } },
    { attribute: 'plan', op: '=', value: 'pro' },
    { attribute: ['utm.source'], op: '!=', value: 3 },
    { attribute: 'age', op: '>=', value: 18.5 },
    { attribute: 'zip', op: '<', value: '75000' },
    { attribute: 'seen', op: '<', value: { date: '2026-01-31T09:30:00.5+02:00' } },
    { attribute: 'seen', op: '>', value: { daysAgo: 0 } },
    { attribute: 'plan', op: 'in', value: ['pro', 1, false] },
    { attribute: 'plan', op: 'contains', value: 'p' },
    { attribute: 'plan', op: 'exists' },
    { field: 'emailDomain', op: 'in', value: ['example.com'] },
    { field: 'email', op: 'contains', value: 'bob' },
    { field: 'status', op: '!=', value: 'unsubscribed' },
    { field: 'createdAt', op: '<=', value: { date: '2024-02-29' } },
    { and: [{ or: [{ tag: 'a' }, { not: { tag: 'b' } }] }] },
  ])('accepts %j unchanged', (rule) => {
    expect(parseSegmentRule(rule)).toEqual(rule);
  });

  it('raises VALIDATION_FAILED with the pointer and every issue', () => {
    const error = failure({
      and: [{ tag: 'vip' }, { attribute: 'plan', op: 'contains', value: {} }, { tag: 3 }],
    });
    expect(error).toBeInstanceOf(RelaisError);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({ pointer: '/and/1/value', issueCount: 2 });
    expect(error.issues).toEqual([
      {
        pointer: '/and/1/value',
        message: 'op "contains" needs a string, number or boolean value; got an object',
      },
      { pointer: '/and/2/tag', message: 'a tag is a string; got a number' },
    ]);
    expect(error.message).toBe(
      'segment rule at /and/1/value: op "contains" needs a string, number or boolean value; got an object (and 1 more problem)',
    );
  });

  it.each([
    ['a root that is not an object', 'vip', ''],
    [
      'a bad value one level down',
      { and: [{ tag: 'a' }, { attribute: 'x', op: '=', value: null }] },
      '/and/1/value',
    ],
    [
      'a bad date four levels down',
      { or: [{ not: { and: [{ attribute: 'x', op: '>', value: { date: '2026-02-30' } }] } }] },
      '/or/0/not/and/0/value/date',
    ],
    ['a bad tag in a list', { tags: { any: ['a', ''] } }, '/tags/any/1'],
    ['a bad key of an array path', { attribute: ['a', 7], op: 'exists' }, '/attribute/1'],
    ['a bad element of an in list', { attribute: 'x', op: 'in', value: [1, [2]] }, '/value/1'],
    [
      'a bad status in a list',
      { field: 'status', op: 'in', value: ['active', 'gone'] },
      '/value/1',
    ],
    ['a key that needs escaping', { and: [{ 'a/b~c': 1 }] }, '/and/0'],
  ])('points at %s', (_, rule, pointer) => {
    expect(firstIssue(rule).pointer).toBe(pointer);
  });

  it.each([
    [
      { attribute: 'x', op: 'like', value: 'a' },
      '/op',
      'unknown op "like"; expected one of =, !=, <, <=, >, >=, in, contains, exists',
    ],
    [
      { attribute: 'x', value: 'a' },
      '/op',
      'missing "op"; expected one of =, !=, <, <=, >, >=, in, contains, exists',
    ],
    [
      { field: 'emailDomian', op: '=', value: 'a.com' },
      '/field',
      'unknown field "emailDomian"; expected one of email, emailDomain, status, createdAt, updatedAt',
    ],
    [
      { field: 'email', op: '>', value: 'a' },
      '/op',
      'op ">" is not available for field "email"; use one of =, !=, in, contains',
    ],
    [
      { attribute: 'x', op: '=', valeu: 1 },
      '',
      'unknown key "valeu" in this "attribute" rule; it takes "attribute", "op", "value"',
    ],
    [
      { tag: 'a', or: [] },
      '',
      'a rule has exactly one of "and", "or", "not", "all", "tag", "tags", "attribute", "field"; it has "or", "tag"',
    ],
    [
      { nope: 1 },
      '',
      'a rule has exactly one of "and", "or", "not", "all", "tag", "tags", "attribute", "field"; it has "nope"',
    ],
    [
      { and: [] },
      '/and',
      '"and" needs at least one rule; use {"all": true} to match every contact',
    ],
    [{ or: { tag: 'a' } }, '/or', '"or" takes an array of rules; got an object'],
    [{ all: false }, '/all', '"all" must be true; {"all": true} matches every contact'],
    [{ tags: { any: ['a'], all: ['b'] } }, '/tags', '"tags" takes exactly one of "any" or "all"'],
  ])('names the problem in %j', (rule, pointer, message) => {
    expect(firstIssue(rule)).toEqual({ pointer, message });
  });

  it.each([
    [{ attribute: 'x', op: 'contains', value: '' }, 'op "contains" needs a non-empty string'],
    [{ attribute: 'x', op: '=' }, 'op "=" needs a "value"'],
    [
      { attribute: 'x', op: '=', value: [1] },
      'op "=" needs a string, number or boolean value; got an array',
    ],
    [
      { attribute: 'x', op: '=', value: { date: '2026-01-01' } },
      'op "=" does not take a date; compare dates with <, <=, > or >=',
    ],
    [{ attribute: 'x', op: '>', value: true }, 'op ">" needs a number, a string or a date'],
    [{ attribute: 'x', op: 'in', value: [] }, 'op "in" needs at least one value'],
    [
      { attribute: 'x', op: 'in', value: 'a' },
      'op "in" needs a non-empty array of values; got a string',
    ],
    [{ attribute: 'x', op: 'exists', value: false }, 'op "exists" takes no value'],
    [{ attribute: 'x', op: '<', value: { date: '2025-02-29' } }, 'not a valid ISO-8601 date'],
    [
      { attribute: 'x', op: '<', value: { date: '2026-01-01T10:00:00+16:00' } },
      'not a valid ISO-8601 date',
    ],
    [{ attribute: 'x', op: '<', value: { date: 20260101 } }, 'not a valid ISO-8601 date'],
    [
      { attribute: 'x', op: '<', value: { daysAgo: 1.5 } },
      '"daysAgo" must be a whole number from 0 to 36500',
    ],
    [{ attribute: 'x', op: '<', value: { daysAgo: -1 } }, '"daysAgo" must be a whole number'],
    [
      { attribute: 'x', op: '<', value: { date: '2026-01-01', daysAgo: 1 } },
      'a date value has exactly one key',
    ],
    [
      { attribute: 'a..b', op: 'exists' },
      'attribute "a..b" has an empty key; write keys that contain dots as an array',
    ],
    [
      { attribute: 'items.0.name', op: 'exists' },
      'attribute key "0" is a number; array positions cannot be addressed',
    ],
    [{ attribute: 5, op: 'exists' }, '"attribute" must be a name such as "plan" or "address.city"'],
    [
      { attribute: 'x', op: '=', value: 'y'.repeat(LIMITS.maxStringLength + 1) },
      'the value is longer than 1000 characters',
    ],
    [
      { field: 'emailDomain', op: '=', value: '@example.com' },
      'an email domain has no "@"; write "example.com"',
    ],
    [{ field: 'email', op: '=', value: ' ' }, 'op "=" on field "email" needs a non-empty string'],
    [{ field: 'status', op: '=', value: 'bounced' }, 'status is one of "active", "unsubscribed"'],
    [
      { field: 'createdAt', op: '>', value: '2026-01-01' },
      'expected a date; a date is {"date": "2026-01-01T00:00:00Z"} or {"daysAgo": 30}',
    ],
  ])('refuses %j with an actionable message', (rule, message) => {
    expect(firstIssue(rule).message).toContain(message);
  });

  it(`accepts ${LIMITS.maxDepth} levels of nesting and refuses one more at the deepest node`, () => {
    expect(() => parseSegmentRule(nestNot(LIMITS.maxDepth))).not.toThrow();
    const issue = firstIssue(nestNot(LIMITS.maxDepth + 1));
    expect(issue.pointer).toBe('/not'.repeat(LIMITS.maxDepth));
    expect(issue.message).toBe('rules nest deeper than 20 levels');
  });

  it('refuses a hostile depth without exhausting the stack', () => {
    expect(firstIssue(nestNot(200_000)).message).toBe('rules nest deeper than 20 levels');
  });

  it(`accepts ${LIMITS.maxNodes} rules and refuses one more`, () => {
    const tags = (count: number) => ({
      or: Array.from({ length: count }, (_, i) => ({ tag: `t${i}` })),
    });
    expect(() => parseSegmentRule(tags(LIMITS.maxNodes - 1))).not.toThrow();
    expect(firstIssue(tags(LIMITS.maxNodes))).toEqual({
      pointer: `/or/${LIMITS.maxNodes - 1}`,
      message: 'a segment has at most 500 rules',
    });
  });

  it('refuses more list values in all than the limit', () => {
    const list = Array.from({ length: LIMITS.maxListLength }, (_, i) => i);
    const rules = Array.from({ length: 11 }, () => ({ attribute: 'x', op: 'in', value: list }));
    expect(firstIssue({ or: rules })).toEqual({
      pointer: '/or/10',
      message: 'a segment has at most 10000 list values in all',
    });
  });

  it('refuses a list longer than the limit', () => {
    const value = Array.from({ length: LIMITS.maxListLength + 1 }, (_, i) => i);
    expect(firstIssue({ attribute: 'x', op: 'in', value }).message).toBe(
      'op "in" takes at most 1000 values',
    );
  });

  it('keeps injection-shaped keys and values as data', () => {
    const hostile = "'; DROP TABLE contacts; --";
    const rule = { and: [{ attribute: hostile, op: '=', value: hostile }, { tag: hostile }] };
    expect(parseSegmentRule(rule)).toEqual(rule);
  });

  it('is usable as a plain zod schema', () => {
    expect(SegmentRuleSchema.safeParse({ tag: 'vip' }).success).toBe(true);
    const result = SegmentRuleSchema.safeParse({ not: { tag: '' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['not', 'tag']);
  });
});

describe('toJsonPointer', () => {
  it('escapes "~" and "/" as RFC 6901 says', () => {
    expect(toJsonPointer(['and', 0, 'a/b~c'])).toBe('/and/0/a~1b~0c');
    expect(toJsonPointer([])).toBe('');
  });
});
