import type { z } from 'zod';
import { RelaisError } from '@relais/domain';
import { InputError } from './errors';

/** Where a value came from: the body is addressed by JSON pointer, the rest by name. */
export type InputPart = 'body' | 'query' | 'params';

/** RFC 6901: `~` and `/` inside a key are escaped. */
export function toPointer(path: readonly PropertyKey[]): string {
  return path.map((key) => '/' + String(key).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/**
 * Parses one part of a request; on failure throws VALIDATION_FAILED whose first issue is
 * the headline and every issue names where it is, so a client can mark the field.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  part: InputPart,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  if (part === 'params') {
    // A malformed id names nothing that exists, exactly like another tenant's id: 404 both.
    throw new RelaisError('NOT_FOUND', 'No such resource.', {
      details: { parameter: result.error.issues[0]?.path.map(String).join('.') },
    });
  }
  const issues = result.error.issues.map((issue) =>
    part === 'body'
      ? { pointer: toPointer(issue.path), message: issue.message }
      : { parameter: issue.path.map(String).join('.'), message: issue.message },
  );
  const first = issues[0];
  const where = first && 'pointer' in first ? first.pointer || '(body)' : first?.parameter;
  throw new InputError(`${where ?? part}: ${first?.message ?? 'invalid input'}`, issues);
}
