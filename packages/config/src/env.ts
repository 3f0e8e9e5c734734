import { z } from 'zod';

/**
 * The environment mapping is derived from the schema so a service never lists its env
 * vars twice. Rule: each key of the path goes camelCase → UPPER_SNAKE, and nesting levels
 * are joined with a double underscore: `amqpUrl` ← `AMQP_URL`,
 * `relay.maxConnections` ← `RELAY__MAX_CONNECTIONS`.
 */

/** How a leaf's env string is turned into the value the schema expects. */
export type LeafKind = 'string' | 'number' | 'boolean' | 'list' | 'json';

/** One settable key of a schema: its path, its env var and how env text is coerced. */
export interface ConfigLeaf {
  path: readonly string[];
  envVar: string;
  kind: LeafKind;
}

/** `maxConnections` → `MAX_CONNECTIONS`; digits stay with the word before them (`s3Bucket` → `S3_BUCKET`). */
export function toEnvSegment(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}

/** The env var that sets the value at `path`. */
export function envVarFor(path: readonly string[]): string {
  return path.map(toEnvSegment).join('__');
}

/** Every settable key of an object schema, nested objects flattened into paths. */
export function listLeaves(schema: z.ZodType): ConfigLeaf[] {
  const leaves: ConfigLeaf[] = [];
  const visit = (node: z.ZodType, path: string[]): void => {
    const object = objectOf(node);
    if (object) {
      for (const [key, child] of Object.entries(object.shape)) {
        visit(child as z.ZodType, [...path, key]);
      }
      return;
    }
    leaves.push({ path, envVar: envVarFor(path), kind: kindOf(node) });
  };
  visit(schema, []);
  return leaves;
}

/** The object schema under wrappers (optional, default, refinements), if there is one. */
export function objectOf(node: z.ZodType): z.ZodObject | undefined {
  const inner = unwrap(node);
  return inner instanceof z.ZodObject ? inner : undefined;
}

/** Turns env text into what the leaf's schema accepts; text that does not fit is kept so zod names the problem. */
export function coerceEnv(text: string, kind: LeafKind): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'number':
      return /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(text.trim()) ? Number(text) : text;
    case 'boolean': {
      const lowered = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lowered)) return true;
      if (['false', '0', 'no', 'off'].includes(lowered)) return false;
      return text;
    }
    case 'list':
      return text.trim().startsWith('[')
        ? parseJsonOr(text)
        : text
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item !== '');
    case 'json':
      return parseJsonOr(text);
  }
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function kindOf(node: z.ZodType): LeafKind {
  const inner = unwrap(node);
  if (inner instanceof z.ZodNumber) return 'number';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  if (inner instanceof z.ZodArray) return 'list';
  if (inner instanceof z.ZodRecord || inner instanceof z.ZodObject) return 'json';
  if (inner instanceof z.ZodUnion) {
    const kinds = (inner.options as z.ZodType[]).map(kindOf);
    // A union that accepts text (like the human units) gets the raw env text.
    if (kinds.includes('string')) return 'string';
    return kinds[0] ?? 'string';
  }
  return 'string';
}

/** Looks through wrappers that do not change what input a schema accepts. */
function unwrap(node: z.ZodType): z.ZodType {
  let current: z.ZodType = node;
  for (let depth = 0; depth < 20; depth++) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodCatch ||
      current instanceof z.ZodReadonly ||
      current instanceof z.ZodNonOptional
    ) {
      current = current.def.innerType as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.def.in as z.ZodType;
    } else {
      return current;
    }
  }
  return current;
}
