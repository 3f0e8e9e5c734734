import { domainToASCII } from 'node:url';
import { normalizeEmail, RelaisError } from '@relais/domain';
import {
  CANONICAL_UTC_PATTERN,
  HAS_OFFSET_PATTERN,
  ISO_DATE_PATTERN,
  resolveDateValue,
} from './dates';
import type { AttributeRule, DateValue, FieldRule, OrderingOp, SegmentRule } from './rule';

/** A boolean SQL expression and the values of its `$n` placeholders, in order. */
export interface CompiledSegment {
  sql: string;
  params: unknown[];
}

/** How the expression is embedded in the caller's statement. */
export interface CompileOptions {
  /** Table alias of `contacts` in the caller's query (default `c`). */
  alias?: string;
  /** Number of the first placeholder, after the caller's own parameters (default 1). */
  firstParam?: number;
  /** The instant `daysAgo` counts back from (default: the current time). */
  now?: Date;
}

const ALIAS = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

interface Context {
  alias: string;
  now: Date;
  bind(value: unknown): string;
}

/**
 * Compiles a validated rule into a boolean SQL expression over `contacts`. User input only
 * ever travels as bind parameters; the SQL text is fixed fragments, the alias and `$n`.
 *
 * Every fragment evaluates to TRUE or FALSE, never NULL, so that `not` is an exact complement:
 * a row whose attribute is missing or has another type fails a comparison, and passes its
 * negation.
 */
export function compileSegment(rule: SegmentRule, options: CompileOptions = {}): CompiledSegment {
  const alias = options.alias ?? 'c';
  const firstParam = options.firstParam ?? 1;
  if (!ALIAS.test(alias)) {
    throw new RelaisError('VALIDATION_FAILED', 'alias must be a plain SQL identifier such as "c"');
  }
  if (!Number.isSafeInteger(firstParam) || firstParam < 1) {
    throw new RelaisError('VALIDATION_FAILED', 'firstParam must be a whole number from 1');
  }
  const params: unknown[] = [];
  const context: Context = {
    alias,
    now: options.now ?? new Date(),
    bind(value) {
      params.push(value);
      return `$${firstParam + params.length - 1}`;
    },
  };
  return { sql: compileRule(rule, context), params };
}

function compileRule(rule: SegmentRule, context: Context): string {
  if ('and' in rule) return combine(rule.and, 'AND', context);
  if ('or' in rule) return combine(rule.or, 'OR', context);
  if ('not' in rule) return `(NOT ${compileRule(rule.not, context)})`;
  if ('all' in rule) return 'TRUE';
  if ('tag' in rule) return `(${context.alias}.tags @> ARRAY[${context.bind(rule.tag)}::text])`;
  if ('tags' in rule) {
    const [operator, tags] = 'any' in rule.tags ? ['&&', rule.tags.any] : ['@>', rule.tags.all];
    const list = tags.map((tag) => `${context.bind(tag)}::text`).join(', ');
    return `(${context.alias}.tags ${operator} ARRAY[${list}])`;
  }
  if ('attribute' in rule) return compileAttribute(rule, context);
  return compileField(rule, context);
}

function combine(rules: readonly SegmentRule[], operator: 'AND' | 'OR', context: Context): string {
  const parts = rules.map((rule) => compileRule(rule, context));
  return parts.length === 1 ? (parts[0] ?? 'TRUE') : `(${parts.join(` ${operator} `)})`;
}

/** The object `{"a": {"b": leaf}}` for path a.b: what `@>` needs to test that path. */
function nest(path: readonly string[], leaf: unknown): string {
  // Computed keys create own properties, so a key named "__proto__" stays an ordinary key.
  return JSON.stringify(path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), leaf));
}

/** LIKE pattern for "contains": the value's own `%`, `_` and `\` match only themselves. */
function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, '\\$&')}%`;
}

/** SQL reading the attribute's value: as jsonb, and as text (for strings). */
interface Target {
  json: string;
  text: string;
}

function compileAttribute(rule: AttributeRule, context: Context): string {
  const { alias } = context;
  const path = typeof rule.attribute === 'string' ? rule.attribute.split('.') : [...rule.attribute];
  let pathParam: string | undefined;
  // The jsonb at the path and, for strings, its text; the path is bound once however often
  // the fragment reads it.
  const target = (): Target => {
    pathParam ??= context.bind(path);
    return {
      json: `${alias}.attributes #> ${pathParam}::text[]`,
      text: `(${alias}.attributes #>> ${pathParam}::text[])`,
    };
  };
  // Containment reads only the jsonb's structure, never casts, and can use a GIN index.
  const contains = (fragment: unknown): string =>
    `${alias}.attributes @> ${context.bind(nest(path, fragment))}::jsonb`;

  switch (rule.op) {
    case '=':
      return `(${contains(rule.value)})`;
    case '!=':
      return `(NOT ${contains(rule.value)})`;
    case 'in':
      return `(${rule.value.map((value) => contains(value)).join(' OR ')})`;
    case 'exists':
      return `(coalesce(jsonb_typeof(${target().json}), 'null') <> 'null')`;
    case 'contains': {
      const member = contains([rule.value]);
      if (typeof rule.value !== 'string') return `(${member})`;
      const at = target();
      const pattern = context.bind(containsPattern(rule.value));
      return `(${member} OR CASE WHEN jsonb_typeof(${at.json}) = 'string' THEN ${at.text} ILIKE ${pattern} ELSE false END)`;
    }
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compileOrdering(rule.op, rule.value, target(), context);
    default:
      return unreachable(rule);
  }
}

function compileOrdering(
  op: OrderingOp,
  value: number | string | DateValue,
  at: Target,
  context: Context,
): string {
  if (typeof value === 'number') {
    // jsonb compares numbers numerically; the type guard keeps "n/a" and true out of it.
    const bound = context.bind(JSON.stringify(value));
    return `(CASE WHEN jsonb_typeof(${at.json}) = 'number' THEN ${at.json} ${op} ${bound}::jsonb ELSE false END)`;
  }
  if (typeof value === 'string') {
    // Code-point order, the same on every server whatever its default collation.
    const bound = context.bind(value);
    return `(CASE WHEN jsonb_typeof(${at.json}) = 'string' THEN ${at.text} COLLATE "C" ${op} ${bound}::text ELSE false END)`;
  }
  const resolved = resolveDateValue(value, context.now);
  const bound = context.bind(resolved);
  const canonical = context.bind(new Date(resolved.replace(' ', 'T')).toISOString());
  const { text } = at;
  // The pattern admits only strings that cast without error, so the casts never raise; values
  // without an offset are UTC, not the session's time zone.
  const instant = `CASE WHEN ${text} ~ '${HAS_OFFSET_PATTERN}' THEN ${text}::timestamptz ELSE ${text}::timestamp AT TIME ZONE 'UTC' END`;
  const general = `CASE WHEN ${text} ~ '${ISO_DATE_PATTERN}' THEN (${instant}) ${op} ${bound}::timestamptz ELSE false END`;
  // Fast path for the canonical UTC form the importer and JavaScript write
  // (`2026-01-05T10:00:00.000Z`): such strings sort in time order, so a byte comparison with
  // the bound in the same form decides without the full pattern or a cast. Over 1M contacts
  // the general path costs ~13 s; this one a fraction (bench/segment).
  return `(CASE WHEN ${text} LIKE '____-__-__T__:__:__.___Z' AND ${text} ~ '${CANONICAL_UTC_PATTERN}' THEN ${text} COLLATE "C" ${op} ${canonical}::text ELSE ${general} END)`;
}

/** Lowercase ASCII (punycode), as `contacts.domain` stores it. */
function normalizeDomain(value: string): string {
  const lower = value.trim().toLowerCase().replace(/\.$/, '');
  return domainToASCII(lower) || lower;
}

/** The key contacts are stored under; a value that is no address is only lowercased (it matches nothing). */
function emailKey(value: string): string {
  const normalized = normalizeEmail(value);
  return normalized.ok ? normalized.email : value.trim().toLowerCase();
}

function compileField(rule: FieldRule, context: Context): string {
  const { alias } = context;
  switch (rule.field) {
    case 'createdAt':
    case 'updatedAt': {
      const column = rule.field === 'createdAt' ? 'created_at' : 'updated_at';
      const bound = context.bind(resolveDateValue(rule.value, context.now));
      return `(${alias}.${column} ${rule.op} ${bound}::timestamptz)`;
    }
    case 'status':
      return compileText(`${alias}.status`, rule, (value) => value, context);
    case 'email':
      return compileText(`${alias}.email`, rule, emailKey, context);
    case 'emailDomain':
      return compileText(`${alias}.domain`, rule, normalizeDomain, context);
    default:
      return unreachable(rule);
  }
}

/** `=`, `!=`, `in`, `contains` on a NOT NULL text column whose values are stored normalized. */
function compileText<V extends string>(
  column: string,
  rule: { op: '=' | '!=' | 'contains'; value: V } | { op: 'in'; value: readonly V[] },
  normalize: (value: V) => string,
  context: Context,
): string {
  switch (rule.op) {
    case '=':
      return `(${column} = ${context.bind(normalize(rule.value))})`;
    case '!=':
      return `(${column} <> ${context.bind(normalize(rule.value))})`;
    case 'in':
      return `(${column} IN (${rule.value.map((value) => context.bind(normalize(value))).join(', ')}))`;
    case 'contains':
      // Only lowercased, not normalized: a fragment of a domain has no punycode form of its own.
      return `(${column} ILIKE ${context.bind(containsPattern(rule.value.trim().toLowerCase()))})`;
    default:
      return unreachable(rule);
  }
}

function unreachable(value: never): never {
  throw new RelaisError('INTERNAL', `unexpected segment rule ${JSON.stringify(value)}`);
}
