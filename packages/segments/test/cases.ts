import { ALL_EMAILS, CONTACTS } from './contacts';

/** A rule document and the emails of TENANT it must select, identically on every driver. */
export interface SegmentCase {
  name: string;
  rule: unknown;
  expected: string[];
}

/** The emails of the named contacts (local parts), sorted. */
function who(...locals: string[]): string[] {
  return locals
    .map((local) => {
      const contact = CONTACTS.find((candidate) => candidate.email.startsWith(`${local}@`));
      if (!contact) throw new Error(`no contact ${local} in the fixture`);
      return contact.email;
    })
    .sort();
}

/** Every email except the named contacts. */
function allBut(...locals: string[]): string[] {
  const excluded = new Set(who(...locals));
  return ALL_EMAILS.filter((email) => !excluded.has(email));
}

const attribute = (name: string | string[], op: string, value?: unknown) =>
  value === undefined ? { attribute: name, op } : { attribute: name, op, value };
const field = (name: string, op: string, value: unknown) => ({ field: name, op, value });
const EXAMPLE_COM = CONTACTS.filter((c) => c.email.endsWith('@example.com')).map((c) =>
  c.email.slice(0, c.email.indexOf('@')),
);

export const CASES: SegmentCase[] = [
  // Equality is exact JSON equality: case, type and array-ness all matter.
  { name: 'plan = "pro"', rule: attribute('plan', '=', 'pro'), expected: who('ada', 'zoe') },
  {
    name: 'plan = "Pro" is case-sensitive',
    rule: attribute('plan', '=', 'Pro'),
    expected: who('carol'),
  },
  {
    name: 'plan != "pro" includes missing, null, array and other-type plans',
    rule: attribute('plan', '!=', 'pro'),
    expected: allBut('ada', 'zoe'),
  },
  { name: 'age = 30 matches 30.0', rule: attribute('age', '=', 30), expected: who('carol') },
  { name: 'score = 1000 matches 1e3', rule: attribute('score', '=', 1000), expected: who('emil') },
  {
    name: 'vip = true skips the string "true"',
    rule: attribute('vip', '=', true),
    expected: who('ada'),
  },
  {
    name: 'vip = "true" skips the boolean',
    rule: attribute('vip', '=', 'true'),
    expected: who('amir'),
  },
  // Ordering never errors on other types ("n/a", true, {years}, [40], "42"): they just fail.
  {
    name: 'age > 30 ignores strings, booleans, arrays',
    rule: attribute('age', '>', 30),
    expected: who('ada'),
  },
  { name: 'age >= 30', rule: attribute('age', '>=', 30), expected: who('ada', 'carol') },
  { name: 'age < 18', rule: attribute('age', '<', 18), expected: who('quinn') },
  { name: 'age <= 18.5', rule: attribute('age', '<=', 18.5), expected: who('quinn', 'rupert') },
  { name: 'ratio < 0', rule: attribute('ratio', '<', 0), expected: who('emil') },
  {
    name: 'age in [30, 17, "42"] matches each value with its own type',
    rule: attribute('age', 'in', [30, 17, '42']),
    expected: who('carol', 'quinn', 'peggy'),
  },
  {
    name: 'plan in ["pro", "free"]',
    rule: attribute('plan', 'in', ['pro', 'free']),
    expected: who('ada', 'bob', 'fay', 'zoe'),
  },
  {
    name: 'plan exists skips missing and null',
    rule: attribute('plan', 'exists'),
    expected: who('ada', 'bob', 'carol', 'grace', 'zoe', 'bea', 'fay'),
  },
  {
    name: 'plan contains "PRO" is a case-insensitive substring of strings',
    rule: attribute('plan', 'contains', 'PRO'),
    expected: who('ada', 'carol', 'zoe', 'bea'),
  },
  {
    name: 'plan contains "team" finds an array element',
    rule: attribute('plan', 'contains', 'team'),
    expected: who('grace'),
  },
  {
    name: 'interests contains "golf": element or substring',
    rule: attribute('interests', 'contains', 'golf'),
    expected: who('niaj', 'olivia'),
  },
  {
    name: 'interests contains 2 finds a number element',
    rule: attribute('interests', 'contains', 2),
    expected: who('peggy'),
  },
  // Nested paths and keys with dots.
  {
    name: 'address.city = "Paris"',
    rule: attribute('address.city', '=', 'Paris'),
    expected: who('heidi'),
  },
  {
    name: 'address.city contains "PARIS" skips a string address',
    rule: attribute('address.city', 'contains', 'PARIS'),
    expected: who('heidi', 'judy'),
  },
  {
    name: 'address.zip >= "75000" compares strings',
    rule: attribute('address.zip', '>=', '75000'),
    expected: who('heidi'),
  },
  {
    name: 'address.zip < 70000 compares numbers',
    rule: attribute('address.zip', '<', 70000),
    expected: who('judy'),
  },
  {
    name: '["utm.source"] reads a key with a dot',
    rule: attribute(['utm.source'], '=', 'google'),
    expected: who('yvonne'),
  },
  {
    name: '"utm.source" walks into utm',
    rule: attribute('utm.source', '=', 'bing'),
    expected: who('yvonne'),
  },
  // Unicode.
  {
    name: 'name contains "ÉRIC"',
    rule: attribute('name', 'contains', 'ÉRIC'),
    expected: who('eve'),
  },
  {
    name: 'a key with non-ASCII letters',
    rule: attribute('größe', '=', 'L'),
    expected: who('eve'),
  },
  { name: 'city contains "são"', rule: attribute('city', 'contains', 'são'), expected: who('bea') },
  { name: 'city = "東京"', rule: attribute('city', '=', '東京'), expected: who('chen') },
  // LIKE wildcards in a contains value match only themselves.
  {
    name: 'note contains "100%"',
    rule: attribute('note', 'contains', '100%'),
    expected: who('mallory'),
  },
  {
    name: 'underscores are not wildcards',
    rule: attribute('note', 'contains', 'rea__deal'),
    expected: [],
  },
  {
    name: 'percent is not a wildcard',
    rule: attribute('note', 'contains', '100%deal'),
    expected: [],
  },
  {
    name: 'percent, underscore and backslash together',
    rule: attribute('nickname', 'contains', '%_OFF\\s'),
    expected: who('dina'),
  },
  // Injection attempts are ordinary keys and values.
  {
    name: 'an injection-shaped key is just a key',
    rule: attribute("'; DROP TABLE contacts; --", '=', 'x'),
    expected: who('mallory'),
  },
  {
    name: 'an injection-shaped value is just a value',
    rule: attribute('plan', 'contains', "'; DROP TABLE contacts; --"),
    expected: [],
  },
  // Dates: several spellings, offsets honoured, no offset = UTC, invalid dates never match.
  {
    name: 'last_order_at after 2026-01-01T00:00Z',
    rule: attribute('last_order_at', '>', { date: '2026-01-01T00:00:00Z' }),
    expected: who('ada', 'bob', 'rupert', 'victor'),
  },
  {
    name: 'last_order_at before 2026-01-01',
    rule: attribute('last_order_at', '<', { date: '2026-01-01' }),
    expected: who('quinn', 'wendy'),
  },
  {
    name: 'last_order_at on or before 2025-12-31 includes that midnight',
    rule: attribute('last_order_at', '<=', { date: '2025-12-31' }),
    expected: who('quinn', 'wendy'),
  },
  {
    name: 'last_order_at within 5 days of now',
    rule: attribute('last_order_at', '>=', { daysAgo: 5 }),
    expected: who('ada', 'bob'),
  },
  {
    name: 'offsets compare as instants (strictly after)',
    rule: attribute('last_order_at', '>', { date: '2026-01-05T09:00:00+01:00' }),
    expected: who('ada'),
  },
  {
    name: 'offsets compare as instants (at or after)',
    rule: attribute('last_order_at', '>=', { date: '2026-01-05T09:00:00+01:00' }),
    expected: who('ada', 'bob'),
  },
  // Built-in fields.
  {
    name: 'emailDomain = "EXAMPLE.FR"',
    rule: field('emailDomain', '=', 'EXAMPLE.FR'),
    expected: who('heidi', 'ivan', 'judy'),
  },
  {
    name: 'emailDomain = "MÜNCHEN.DE" matches punycode',
    rule: field('emailDomain', '=', 'MÜNCHEN.DE'),
    expected: who('eve'),
  },
  {
    name: 'emailDomain = "例え.jp"',
    rule: field('emailDomain', '=', '例え.jp'),
    expected: who('chen'),
  },
  {
    name: 'emailDomain in a list',
    rule: field('emailDomain', 'in', ['gmail.com', 'Example.Org']),
    expected: who('amir', 'bea', 'carol'),
  },
  {
    name: 'emailDomain contains',
    rule: field('emailDomain', 'contains', 'EXAMPLE.N'),
    expected: who('frank'),
  },
  {
    name: 'emailDomain != "example.com"',
    rule: field('emailDomain', '!=', 'example.com'),
    expected: allBut(...EXAMPLE_COM),
  },
  {
    name: 'email = "ADA@example.com"',
    rule: field('email', '=', 'ADA@example.com'),
    expected: who('ada'),
  },
  {
    name: 'email contains "ol"',
    rule: field('email', 'contains', 'ol'),
    expected: who('carol', 'olivia'),
  },
  {
    name: 'email = an internationalized address matches its punycode form',
    rule: field('email', '=', 'Chen@例え.JP'),
    expected: who('chen'),
  },
  {
    name: 'email in a list',
    rule: field('email', 'in', ['bob@example.com', 'nobody@example.com']),
    expected: who('bob'),
  },
  {
    name: 'status = "unsubscribed"',
    rule: field('status', '=', 'unsubscribed'),
    expected: who('zoe'),
  },
  {
    name: 'status in ["active"]',
    rule: field('status', 'in', ['active']),
    expected: allBut('zoe'),
  },
  {
    name: 'createdAt within 7 days',
    rule: field('createdAt', '>', { daysAgo: 7 }),
    expected: who('fay'),
  },
  {
    name: 'updatedAt on or after 2025-06-01',
    rule: field('updatedAt', '>=', { date: '2025-06-01' }),
    expected: who('ada', 'fay'),
  },
  // Tags are case-sensitive.
  { name: 'tag "vip"', rule: { tag: 'vip' }, expected: who('ada') },
  { name: 'tag "VIP"', rule: { tag: 'VIP' }, expected: who('amir') },
  { name: 'tags any', rule: { tags: { any: ['vip', 'VIP'] } }, expected: who('ada', 'amir') },
  { name: 'tags all', rule: { tags: { all: ['vip', 'newsletter'] } }, expected: who('ada') },
  { name: 'tags all of one', rule: { tags: { all: ['newsletter'] } }, expected: who('ada', 'bob') },
  { name: 'tags any of none present', rule: { tags: { any: ['nope'] } }, expected: [] },
  // Combinators.
  { name: 'all: true', rule: { all: true }, expected: ALL_EMAILS },
  {
    name: 'and',
    rule: { and: [attribute('plan', '=', 'pro'), { tag: 'vip' }] },
    expected: who('ada'),
  },
  {
    name: 'or',
    rule: { or: [{ tag: 'VIP' }, attribute('age', '<', 18)] },
    expected: who('amir', 'quinn'),
  },
  {
    name: 'not exists',
    rule: { not: attribute('plan', 'exists') },
    expected: allBut('ada', 'bob', 'carol', 'grace', 'zoe', 'bea', 'fay'),
  },
  {
    name: 'nested and / or / not',
    rule: {
      and: [
        { or: [field('emailDomain', '=', 'example.fr'), field('emailDomain', '=', 'gmail.com')] },
        { not: attribute('address.city', 'contains', 'paris') },
      ],
    },
    expected: who('ivan', 'amir', 'bea'),
  },
];
