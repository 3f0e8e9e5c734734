import { compileTemplate, type CompileOptions } from './compile';
import { templateError, templateIssues } from './template-errors';
import type { RenderContext, TemplateSource } from './types';

// A recipient with no attributes: every `contact.*` but the address renders empty, which is
// also what a sparse real contact looks like.
const SAMPLE_CONTEXT: RenderContext = {
  contact: { email: 'recipient@example.com' },
  campaign: { name: 'Sample campaign' },
  unsubscribeUrl: 'https://example.com/unsubscribe',
  viewInBrowserUrl: 'https://example.com/view',
};

/**
 * Checks a template before it is saved: the shape and syntax checks of `compileTemplate`, then
 * one trial render for a contact with no attributes, so a template that always breaks a limit
 * is refused here rather than failing for every recipient at send time. Data-dependent failures
 * can still happen at send time. Throws `VALIDATION_FAILED`; `templateIssues(error)` lists them.
 */
export function validateTemplate(source: TemplateSource, options: CompileOptions = {}): void {
  const compiled = compileTemplate(source, options);
  try {
    compiled.render(SAMPLE_CONTEXT);
  } catch (error) {
    const issues = templateIssues(error);
    if (issues.length === 0) throw error;
    throw templateError(issues, { cause: error });
  }
}
