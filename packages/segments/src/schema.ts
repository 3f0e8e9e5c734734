import { RelaisError } from '@relais/domain';
import { z } from 'zod';
import {
  ATTRIBUTE_OPS,
  FIELD_OPS,
  LIMITS,
  type AttributeRule,
  type FieldName,
  type FieldRule,
  type SegmentRule,
} from './rule';
import {
  attributePathProblem,
  attributeValueProblem,
  describe,
  fieldValueProblem,
  isPlainObject,
  type Problem,
} from './values';

/** One problem in a rule document; `pointer` is an RFC 6901 JSON pointer to the bad part. */
export interface SegmentRuleIssue {
  pointer: string;
  message: string;
}

/**
 * VALIDATION_FAILED for a rule document. `details` carries the first problem's pointer (the
 * domain's details are flat, loggable values); `issues` lists every problem found.
 */
export class SegmentRuleError extends RelaisError {
  readonly issues: readonly SegmentRuleIssue[];

  constructor(issues: readonly SegmentRuleIssue[]) {
    const first = issues[0] ?? { pointer: '', message: 'invalid segment rule' };
    const more =
      issues.length > 1
        ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})`
        : '';
    super('VALIDATION_FAILED', `segment rule ${where(first.pointer)}: ${first.message}${more}`, {
      details: { pointer: first.pointer, issueCount: issues.length },
    });
    this.name = 'SegmentRuleError';
    this.issues = issues;
  }
}

function where(pointer: string): string {
  return pointer === '' ? 'at the root' : `at ${pointer}`;
}

const KINDS = ['and', 'or', 'not', 'all', 'tag', 'tags', 'attribute', 'field'] as const;
type Kind = (typeof KINDS)[number];

const FIELD_NAMES = Object.keys(FIELD_OPS) as FieldName[];

function quoted(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}

/** Error customizer for a rule object: names the keys it does take. */
function ruleObjectError(kind: Kind, keys: readonly string[]) {
  return (issue: z.core.$ZodRawIssue): string | undefined =>
    issue.code === 'unrecognized_keys'
      ? `unknown key ${quoted(issue.keys)} in this "${kind}" rule; it takes ${quoted(keys)}`
      : undefined;
}

function report(
  ctx: z.RefinementCtx,
  found: Problem,
  ...prefix: (string | number)[]
): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message: found.message, path: [...prefix, ...found.path] });
  return z.NEVER;
}

const ruleRef: z.ZodType<SegmentRule> = z.lazy(() => ruleNode);

function childList(kind: 'and' | 'or') {
  return z
    .array(ruleRef, {
      error: (issue) => `"${kind}" takes an array of rules; got ${describe(issue.input)}`,
    })
    .min(1, {
      error: `"${kind}" needs at least one rule; use {"all": true} to match every contact`,
    });
}

const tagString = z
  .string({ error: (issue) => `a tag is a string; got ${describe(issue.input)}` })
  .min(1, { error: 'a tag cannot be empty' })
  .max(LIMITS.maxStringLength, { error: `a tag is at most ${LIMITS.maxStringLength} characters` });

const tagList = z
  .array(tagString, { error: (issue) => `expected an array of tags; got ${describe(issue.input)}` })
  .min(1, { error: 'the list of tags cannot be empty' })
  .max(LIMITS.maxListLength, { error: `at most ${LIMITS.maxListLength} tags` });

const tagsMatch = z
  .strictObject(
    { any: tagList.optional(), all: tagList.optional() },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown key ${quoted(issue.keys)} in "tags"; it takes "any" or "all"`
          : `"tags" takes {"any": [...]} or {"all": [...]}; got ${describe(issue.input)}`,
    },
  )
  .transform((match, ctx) => {
    if (match.any && !match.all) return { any: match.any };
    if (match.all && !match.any) return { all: match.all };
    return report(ctx, { path: [], message: '"tags" takes exactly one of "any" or "all"' });
  });

const attributeOp = z.enum(ATTRIBUTE_OPS, {
  error: (issue) =>
    issue.input === undefined
      ? `missing "op"; expected one of ${ATTRIBUTE_OPS.join(', ')}`
      : `unknown op ${JSON.stringify(issue.input)}; expected one of ${ATTRIBUTE_OPS.join(', ')}`,
});

const fieldName = z.enum(FIELD_NAMES as [FieldName, ...FieldName[]], {
  error: (issue) =>
    `unknown field ${JSON.stringify(issue.input)}; expected one of ${FIELD_NAMES.join(', ')}`,
});

const KIND_SCHEMAS: Record<Kind, z.ZodType<SegmentRule>> = {
  and: z.strictObject({ and: childList('and') }, { error: ruleObjectError('and', ['and']) }),
  or: z.strictObject({ or: childList('or') }, { error: ruleObjectError('or', ['or']) }),
  not: z.strictObject({ not: ruleRef }, { error: ruleObjectError('not', ['not']) }),
  all: z.strictObject(
    { all: z.literal(true, { error: '"all" must be true; {"all": true} matches every contact' }) },
    { error: ruleObjectError('all', ['all']) },
  ),
  tag: z.strictObject({ tag: tagString }, { error: ruleObjectError('tag', ['tag']) }),
  tags: z.strictObject({ tags: tagsMatch }, { error: ruleObjectError('tags', ['tags']) }),
  attribute: z
    .strictObject(
      { attribute: z.unknown(), op: attributeOp, value: z.unknown().optional() },
      { error: ruleObjectError('attribute', ['attribute', 'op', 'value']) },
    )
    .transform((node, ctx) => {
      const badPath = attributePathProblem(node.attribute);
      if (badPath) return report(ctx, badPath, 'attribute');
      const badValue = attributeValueProblem(node.op, node.value);
      if (badValue) return report(ctx, badValue, 'value');
      return node as AttributeRule;
    }),
  field: z
    .strictObject(
      { field: fieldName, op: z.unknown(), value: z.unknown().optional() },
      { error: ruleObjectError('field', ['field', 'op', 'value']) },
    )
    .transform((node, ctx) => {
      const bad = fieldValueProblem(node.field, FIELD_OPS[node.field], node.op, node.value);
      return bad ? report(ctx, bad) : (node as FieldRule);
    }),
};

/** One rule object: picks its schema by the one kind key it carries, so errors name that kind. */
const ruleNode: z.ZodType<SegmentRule> = z.unknown().transform((input, ctx) => {
  if (!isPlainObject(input)) {
    return report(ctx, {
      path: [],
      message: `a rule is an object such as {"tag": "vip"}; got ${describe(input)}`,
    });
  }
  const kinds = KINDS.filter((kind) => Object.hasOwn(input, kind));
  const [kind] = kinds;
  if (kind === undefined || kinds.length > 1) {
    const found =
      kinds.length > 1
        ? `it has ${quoted(kinds)}`
        : `it has ${quoted(Object.keys(input)) || 'no keys'}`;
    return report(ctx, {
      path: [],
      message: `a rule has exactly one of ${quoted(KINDS)}; ${found}`,
    });
  }
  const result = KIND_SCHEMAS[kind].safeParse(input);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  }
  return z.NEVER;
});

function listLength(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

/**
 * Size limits, checked before the schema walks the tree so that a hostile document (deep
 * nesting, millions of nodes) is refused without recursing through it.
 */
function limitProblem(root: unknown): Problem | undefined {
  let nodes = 0;
  let listValues = 0;
  const visit = (node: unknown, path: (string | number)[], depth: number): Problem | undefined => {
    if (!isPlainObject(node)) return undefined;
    nodes += 1;
    if (depth > LIMITS.maxDepth)
      return { path, message: `rules nest deeper than ${LIMITS.maxDepth} levels` };
    if (nodes > LIMITS.maxNodes)
      return { path, message: `a segment has at most ${LIMITS.maxNodes} rules` };
    const tags = node['tags'];
    listValues += listLength(node['value']);
    if (isPlainObject(tags)) listValues += listLength(tags['any']) + listLength(tags['all']);
    if (listValues > LIMITS.maxListValues) {
      return { path, message: `a segment has at most ${LIMITS.maxListValues} list values in all` };
    }
    for (const key of ['and', 'or'] as const) {
      const children = Object.hasOwn(node, key) ? node[key] : undefined;
      if (!Array.isArray(children)) continue;
      for (const [index, child] of children.entries()) {
        const found = visit(child, [...path, key, index], depth + 1);
        if (found) return found;
      }
    }
    return Object.hasOwn(node, 'not') ? visit(node['not'], [...path, 'not'], depth + 1) : undefined;
  };
  return visit(root, [], 1);
}

/** The zod schema of a whole rule document, limits included. */
export const SegmentRuleSchema: z.ZodType<SegmentRule> = z
  .unknown()
  .superRefine((input, ctx) => {
    const found = limitProblem(input);
    if (found) report(ctx, found);
  })
  .pipe(ruleNode);

/** RFC 6901: `~` and `/` inside a key are escaped as `~0` and `~1`. */
export function toJsonPointer(path: readonly PropertyKey[]): string {
  return path.map((key) => `/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/**
 * Validates a rule document (parsed JSON). Throws a SegmentRuleError (VALIDATION_FAILED)
 * whose message and `details.pointer` point at the first bad node.
 */
export function parseSegmentRule(input: unknown): SegmentRule {
  const result = SegmentRuleSchema.safeParse(input);
  if (result.success) return result.data;
  throw new SegmentRuleError(
    result.error.issues.map((issue) => ({
      pointer: toJsonPointer(issue.path),
      message: issue.message,
    })),
  );
}
