import { isIsoDate } from './dates';
import { CONTACT_STATUSES, LIMITS, ORDERING_OPS, type FieldName } from './rule';

/** A problem found in part of a rule, `path` relative to the part that was checked. */
export interface Problem {
  path: (string | number)[];
  message: string;
}

const DATE_HINT = 'a date is {"date": "2026-01-01T00:00:00Z"} or {"daysAgo": 30}';

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function problem(message: string, ...path: (string | number)[]): Problem {
  return { path, message };
}

function stringProblem(value: string, what: string): Problem | undefined {
  if (value.length > LIMITS.maxStringLength) {
    return problem(`${what} is longer than ${LIMITS.maxStringLength} characters`);
  }
  return undefined;
}

/**
 * `"address.city"` or `["utm.source"]`. Segments that look like integers are refused:
 * PostgreSQL's `#>` would read them as array positions while `@>` reads them as keys, and the
 * two operators must agree on what a path means.
 */
export function attributePathProblem(input: unknown): Problem | undefined {
  let segments: unknown[];
  if (typeof input === 'string') {
    if (input === '') return problem('"attribute" cannot be empty');
    segments = input.split('.');
  } else if (Array.isArray(input)) {
    if (input.length === 0) return problem('"attribute" needs at least one key');
    segments = input;
  } else {
    return problem(
      `"attribute" must be a name such as "plan" or "address.city", or an array of keys; got ${describe(input)}`,
    );
  }
  if (segments.length > LIMITS.maxPathSegments) {
    return problem(`"attribute" is nested deeper than ${LIMITS.maxPathSegments} keys`);
  }
  for (const [index, segment] of segments.entries()) {
    const at = Array.isArray(input) ? [index] : [];
    if (typeof segment !== 'string') {
      return problem(`attribute keys are strings; got ${describe(segment)}`, ...at);
    }
    if (segment === '') {
      return problem(
        Array.isArray(input)
          ? 'attribute keys cannot be empty'
          : `attribute "${input}" has an empty key; write keys that contain dots as an array, e.g. ["utm.source"]`,
        ...at,
      );
    }
    if (/^-?[0-9]+$/.test(segment)) {
      return problem(
        `attribute key "${segment}" is a number; array positions cannot be addressed, use "contains" to match array elements`,
        ...at,
      );
    }
    const tooLong = stringProblem(segment, 'an attribute key');
    if (tooLong) return { ...tooLong, path: at };
  }
  return undefined;
}

function scalarProblem(value: unknown, op: string): Problem | undefined {
  if (typeof value === 'string') return stringProblem(value, 'the value');
  if (typeof value === 'number' || typeof value === 'boolean') return undefined;
  if (value === undefined) return problem(`op "${op}" needs a "value"`);
  if (value === null) {
    return problem(
      `op "${op}" cannot compare with null; use op "exists" to test for a missing or null attribute`,
    );
  }
  if (isPlainObject(value) && ('date' in value || 'daysAgo' in value)) {
    return problem(`op "${op}" does not take a date; compare dates with <, <=, > or >=`);
  }
  return problem(`op "${op}" needs a string, number or boolean value; got ${describe(value)}`);
}

function listProblem(
  value: unknown,
  op: string,
  itemProblem: (item: unknown) => Problem | undefined,
): Problem | undefined {
  if (!Array.isArray(value)) {
    return problem(`op "${op}" needs a non-empty array of values; got ${describe(value)}`);
  }
  if (value.length === 0) return problem(`op "${op}" needs at least one value`);
  if (value.length > LIMITS.maxListLength) {
    return problem(`op "${op}" takes at most ${LIMITS.maxListLength} values`);
  }
  for (const [index, item] of value.entries()) {
    const found = itemProblem(item);
    if (found) return { path: [index, ...found.path], message: found.message };
  }
  return undefined;
}

export function dateValueProblem(value: unknown): Problem | undefined {
  if (!isPlainObject(value)) return problem(`expected a date; ${DATE_HINT}`);
  const keys = Object.keys(value);
  if (keys.length !== 1 || (keys[0] !== 'date' && keys[0] !== 'daysAgo')) {
    return problem(`a date value has exactly one key, "date" or "daysAgo"; ${DATE_HINT}`);
  }
  if ('date' in value) {
    const date = value['date'];
    if (typeof date !== 'string' || !isIsoDate(date)) {
      return problem(
        'not a valid ISO-8601 date; use "2026-01-31", "2026-01-31T09:30:00Z" or "2026-01-31T09:30:00+02:00"',
        'date',
      );
    }
    return undefined;
  }
  const days = value['daysAgo'];
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 0 || days > LIMITS.maxDaysAgo) {
    return problem(`"daysAgo" must be a whole number from 0 to ${LIMITS.maxDaysAgo}`, 'daysAgo');
  }
  return undefined;
}

function orderingProblem(value: unknown, op: string): Problem | undefined {
  if (typeof value === 'number') return undefined;
  if (typeof value === 'string') return stringProblem(value, 'the value');
  if (isPlainObject(value)) return dateValueProblem(value);
  return problem(
    `op "${op}" needs a number, a string or a date (${DATE_HINT}); got ${describe(value)}`,
  );
}

/** Checks an attribute rule's value against its (already valid) operator. */
export function attributeValueProblem(op: string, value: unknown): Problem | undefined {
  switch (op) {
    case 'exists':
      return value === undefined
        ? undefined
        : problem(
            'op "exists" takes no value; wrap the rule in {"not": …} to match contacts without the attribute',
          );
    case 'in':
      return listProblem(value, op, (item) => scalarProblem(item, op));
    case 'contains':
      if (value === '') return problem('op "contains" needs a non-empty string');
      return scalarProblem(value, op);
    case '=':
    case '!=':
      return scalarProblem(value, op);
    default:
      return orderingProblem(value, op);
  }
}

function fieldStringProblem(field: FieldName, value: unknown, op: string): Problem | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    return problem(
      `op "${op}" on field "${field}" needs a non-empty string; got ${describe(value)}`,
    );
  }
  if (field === 'emailDomain' && value.includes('@')) {
    return problem('an email domain has no "@"; write "example.com"');
  }
  return stringProblem(value, 'the value');
}

function statusProblem(value: unknown): Problem | undefined {
  return (CONTACT_STATUSES as readonly unknown[]).includes(value)
    ? undefined
    : problem(`status is one of ${CONTACT_STATUSES.map((s) => `"${s}"`).join(', ')}`);
}

/** Checks a field rule's operator and value; the field name is already valid. */
export function fieldValueProblem(
  field: FieldName,
  allowedOps: readonly string[],
  op: unknown,
  value: unknown,
): Problem | undefined {
  if (typeof op !== 'string' || !allowedOps.includes(op)) {
    const expected = allowedOps.join(', ');
    return op === undefined
      ? problem(`missing "op"; field "${field}" takes ${expected}`, 'op')
      : problem(
          `op ${JSON.stringify(op)} is not available for field "${field}"; use one of ${expected}`,
          'op',
        );
  }
  const inValue = (found: Problem | undefined): Problem | undefined =>
    found && { path: ['value', ...found.path], message: found.message };
  if (value === undefined) return problem(`op "${op}" needs a "value"`, 'value');
  if ((ORDERING_OPS as readonly string[]).includes(op)) return inValue(dateValueProblem(value));
  if (field === 'status') {
    return inValue(op === 'in' ? listProblem(value, op, statusProblem) : statusProblem(value));
  }
  if (op === 'in')
    return inValue(listProblem(value, op, (item) => fieldStringProblem(field, item, op)));
  return inValue(fieldStringProblem(field, value, op));
}
