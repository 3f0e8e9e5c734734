import { RelaisError } from '@relais/domain';
import { LiquidError } from 'liquidjs';
import type { TemplateIssue, TemplatePointer } from './types';

// liquidjs appends the position to its messages; issues carry it as fields instead.
const POSITION_SUFFIX = /, line:\d+, col:\d+$/;

// RelaisError details are flat by design (safe to log), so the issue list travels beside the
// error, as @relais/config does for its problems.
const issuesByError = new WeakMap<RelaisError, readonly TemplateIssue[]>();

/** Describes anything the engine threw while handling one part of a template. */
export function issueFrom(pointer: TemplatePointer, error: unknown): TemplateIssue {
  if (error instanceof LiquidError) {
    const [line, column] = error.token.getPosition();
    const message = (error.originalError?.message ?? error.message).replace(POSITION_SUFFIX, '');
    return { pointer, message, line, column };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { pointer, message: message.replace(POSITION_SUFFIX, '') };
}

/**
 * Builds the `VALIDATION_FAILED` error for `issues` (at least one). `details` locate the first
 * issue (`pointer`, `line`, `column`) and count them; `templateIssues(error)` returns them all.
 */
export function templateError(
  issues: readonly TemplateIssue[],
  options: { summary?: string; cause?: unknown } = {},
): RelaisError {
  const first = issues[0];
  const summary =
    options.summary ??
    `template has ${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}`;
  const error = new RelaisError(
    'VALIDATION_FAILED',
    [summary, ...issues.map(formatIssue)].join('\n'),
    {
      cause: options.cause,
      details: {
        pointer: first?.pointer,
        line: first?.line,
        column: first?.column,
        issueCount: issues.length,
      },
    },
  );
  issuesByError.set(error, issues);
  return error;
}

/** The issues behind a template error (e.g. for an API problem response); empty for any other error. */
export function templateIssues(error: unknown): readonly TemplateIssue[] {
  return error instanceof RelaisError ? (issuesByError.get(error) ?? []) : [];
}

function formatIssue(issue: TemplateIssue): string {
  const at = issue.line === undefined ? '' : ` (line ${issue.line}, column ${issue.column})`;
  return `${issue.pointer}${at}: ${issue.message}`;
}
