import { normalizeEmail } from '@relais/domain';
import type { ContactRow, ImportRowError } from './types';

/**
 * Caps on one row. They keep a contact small enough to be read whole by segmentation and
 * rendering, and keep the import's memory bounded whatever the input holds.
 */
export const IMPORT_LIMITS = {
  /** Top-level attribute keys per contact (after merging repeated rows of one email). */
  maxAttributes: 100,
  maxKeyLength: 64,
  /** Characters in one top-level string value (a CSV cell). */
  maxValueLength: 2_048,
  /** One CSV record or NDJSON line, in bytes. */
  maxRowBytes: 64 * 1024,
  maxTags: 50,
  maxTagLength: 64,
} as const;

/** A row's problem, or undefined: the validators below return one instead of throwing. */
export type RowProblem = Omit<ImportRowError, 'line'>;

/** `invalid email: missing @` style reasons, straight from the shared normalizer. */
export function parseEmail(
  raw: string,
): { ok: true; email: string; domain: string } | { ok: false; problem: RowProblem } {
  const text = raw.trim();
  if (text === '') return { ok: false, problem: { reason: 'missing email', field: 'email' } };
  const result = normalizeEmail(text);
  if (!result.ok) {
    return { ok: false, problem: { reason: `invalid email: ${result.reason}`, field: 'email' } };
  }
  return { ok: true, email: result.email, domain: result.domain };
}

export function keyProblem(key: string): RowProblem | undefined {
  if (key === '') return { reason: 'attribute key is empty' };
  if (key.length > IMPORT_LIMITS.maxKeyLength) {
    return {
      reason: `attribute key is longer than ${IMPORT_LIMITS.maxKeyLength} characters`,
      field: key.slice(0, IMPORT_LIMITS.maxKeyLength),
    };
  }
  return undefined;
}

export function valueLengthProblem(key: string, value: string): RowProblem | undefined {
  if (value.length <= IMPORT_LIMITS.maxValueLength) return undefined;
  return {
    reason: `value is ${value.length} characters, limit is ${IMPORT_LIMITS.maxValueLength}`,
    field: key,
  };
}

export function attributeCountProblem(count: number): RowProblem | undefined {
  if (count <= IMPORT_LIMITS.maxAttributes) return undefined;
  return { reason: `${count} attributes, limit is ${IMPORT_LIMITS.maxAttributes}` };
}

/**
 * Adds tags to `into` (deduplicated, trimmed, empty ones dropped). Returns a problem when a
 * tag or the count is over its cap.
 */
export function addTags(into: string[], tags: Iterable<string>): RowProblem | undefined {
  for (const raw of tags) {
    const tag = raw.trim();
    if (tag === '' || into.includes(tag)) continue;
    if (tag.length > IMPORT_LIMITS.maxTagLength) {
      return {
        reason: `tag is longer than ${IMPORT_LIMITS.maxTagLength} characters`,
        field: 'tags',
      };
    }
    if (into.length >= IMPORT_LIMITS.maxTags) {
      return { reason: `more than ${IMPORT_LIMITS.maxTags} tags`, field: 'tags' };
    }
    into.push(tag);
  }
  return undefined;
}

/** CSV tag cells list tags separated by `;` or `|` (commas would need quoting). */
export const TAG_SEPARATOR = /[;|]/;

/**
 * Folds a later row of the same email into the earlier one, as importing them one after the
 * other would: later attribute values win, tags are the union.
 */
export function mergeRow(into: ContactRow, later: ContactRow): RowProblem | undefined {
  let added = 0;
  for (const key of Object.keys(later.attributes)) if (!(key in into.attributes)) added++;
  const problem = attributeCountProblem(Object.keys(into.attributes).length + added);
  if (problem) return { reason: `with earlier rows of this email: ${problem.reason}` };
  const tags = [...into.tags];
  const tagProblem = addTags(tags, later.tags);
  if (tagProblem) return tagProblem;
  Object.assign(into.attributes, later.attributes);
  into.tags = tags;
  return undefined;
}
