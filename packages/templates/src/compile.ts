import type { Liquid, Template } from 'liquidjs';
import { enginesFor } from './engine';
import { sanitizeSubject } from './subject';
import { issueFrom, templateError } from './template-errors';
import type {
  RenderContext,
  RenderedMessage,
  TemplateIssue,
  TemplateLimits,
  TemplatePointer,
  TemplateSource,
} from './types';

/** How to compile; every limit left out takes its `DEFAULT_TEMPLATE_LIMITS` value. */
export interface CompileOptions {
  limits?: Partial<TemplateLimits> | undefined;
}

/** A parsed template: render it once per recipient, as often as needed. */
export interface CompiledTemplate {
  /**
   * Personalizes the message for one recipient. Throws `VALIDATION_FAILED` (not retryable)
   * when a part breaks a limit or the engine fails; `templateIssues(error)` says where.
   */
  render(context: RenderContext): RenderedMessage;
  /** Every context path the template reads, sorted (`contact.first_name`, `unsubscribe_url`). */
  readonly variables: readonly string[];
}

interface CompiledPart {
  pointer: TemplatePointer;
  engine: Liquid;
  templates: Template[];
}

/**
 * Parses subject, html and text up front. Throws one `VALIDATION_FAILED` listing every problem
 * (missing parts, syntax errors, unknown tags or filters, oversized source).
 */
export function compileTemplate(
  source: TemplateSource,
  options: CompileOptions = {},
): CompiledTemplate {
  const { engines, limits } = enginesFor(options.limits);
  const issues: TemplateIssue[] = checkShape(source);
  const parse = (pointer: TemplatePointer, text: string | undefined, engine: Liquid) => {
    if (typeof text !== 'string' || isBlank(text)) return undefined;
    if (text.length > limits.maxSourceChars) {
      issues.push({ pointer, message: `longer than ${limits.maxSourceChars} characters` });
      return undefined;
    }
    try {
      return { pointer, engine, templates: engine.parse(text) };
    } catch (error) {
      issues.push(issueFrom(pointer, error));
      return undefined;
    }
  };
  const subject = parse('/subject', source.subject, engines.plain);
  const html = parse('/html', source.html, engines.html);
  const text = parse('/text', source.text, engines.plain);
  if (issues.length > 0 || subject === undefined) throw templateError(issues);

  const parts = [subject, html, text].filter((part) => part !== undefined);
  return {
    variables: variablesOf(parts),
    render(context) {
      const scope = scopeOf(context);
      const message: RenderedMessage = { subject: sanitizeSubject(renderPart(subject, scope)) };
      if (html !== undefined) message.html = renderPart(html, scope);
      if (text !== undefined) message.text = renderPart(text, scope);
      return message;
    },
  };
}

function checkShape(source: TemplateSource): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  if (typeof source.subject !== 'string' || isBlank(source.subject)) {
    issues.push({ pointer: '/subject', message: 'subject is required' });
  }
  if (isAbsent(source.html) && isAbsent(source.text)) {
    issues.push({ pointer: '/html', message: 'html or text is required' });
  }
  return issues;
}

function isAbsent(part: string | undefined): boolean {
  return typeof part !== 'string' || isBlank(part);
}

function isBlank(text: string): boolean {
  return text.trim() === '';
}

// The variable model (README): attributes flattened under `contact`, the address last so an
// attribute named `email` cannot replace it; only known campaign fields, so extra properties a
// caller's object happens to carry never become template-visible.
function scopeOf(context: RenderContext): Record<string, unknown> {
  return {
    contact: { ...context.contact.attributes, email: context.contact.email },
    campaign: context.campaign === undefined ? {} : { name: context.campaign.name },
    unsubscribe_url: context.unsubscribeUrl,
    view_in_browser_url: context.viewInBrowserUrl,
  };
}

function renderPart(part: CompiledPart, scope: Record<string, unknown>): string {
  try {
    return String(part.engine.renderSync(part.templates, scope));
  } catch (error) {
    const issue = issueFrom(part.pointer, error);
    throw templateError([issue], {
      summary: `template ${part.pointer} failed to render`,
      cause: error,
    });
  }
}

function variablesOf(parts: readonly CompiledPart[]): string[] {
  const names = new Set<string>();
  for (const part of parts) {
    for (const name of part.engine.globalFullVariablesSync(part.templates)) names.add(name);
  }
  return [...names].sort();
}
