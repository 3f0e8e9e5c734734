import { RelaisError } from '@relais/domain';
import { describe, expect, it } from 'vitest';
import { templateIssues } from './template-errors';
import type { TemplateSource } from './types';
import { validateTemplate } from './validate';

function failure(source: TemplateSource): RelaisError {
  try {
    validateTemplate(source);
  } catch (error) {
    if (error instanceof RelaisError) return error;
    throw error;
  }
  throw new Error('expected validateTemplate to throw');
}

describe('validateTemplate', () => {
  it('accepts a subject with html only, text only, or both', () => {
    expect(() =>
      validateTemplate({ subject: 'Hi', html: '<p>{{ contact.email }}</p>' }),
    ).not.toThrow();
    expect(() => validateTemplate({ subject: 'Hi', text: '{{ contact.email }}' })).not.toThrow();
    expect(() => validateTemplate({ subject: 'Hi', html: '<p/>', text: 'x' })).not.toThrow();
  });

  it('points at the line and column of an unclosed tag', () => {
    const error = failure({ subject: 'Hi', html: '<p>\n  {% if contact.vip %}\n  VIP</p>' });
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details).toEqual({ pointer: '/html', line: 2, column: 3, issueCount: 1 });
    expect(templateIssues(error)).toEqual([
      { pointer: '/html', line: 2, column: 3, message: 'tag {% if contact.vip %} not closed' },
    ]);
  });

  it('reports an unclosed output', () => {
    const error = failure({ subject: 'Hi', text: 'a\nb {{ contact.email' });
    expect(templateIssues(error)).toEqual([
      { pointer: '/text', line: 2, column: 3, message: 'output "{{ contact.email" not closed' },
    ]);
  });

  it('reports unknown filters and tags', () => {
    const error = failure({
      subject: '{{ contact.first_name | shout }}',
      html: '{% frobnicate %}',
      text: 'ok',
    });
    expect(templateIssues(error).map((issue) => [issue.pointer, issue.message])).toEqual([
      ['/subject', 'undefined filter: shout'],
      ['/html', 'tag "frobnicate" not found'],
    ]);
    expect(error.details).toMatchObject({ pointer: '/subject', issueCount: 2 });
    expect(error.message).toContain('/html (line 1, column 1): tag "frobnicate" not found');
  });

  it('requires a subject', () => {
    expect(templateIssues(failure({ subject: '  ', text: 'x' }))).toEqual([
      { pointer: '/subject', message: 'subject is required' },
    ]);
  });

  it('requires html or text', () => {
    expect(templateIssues(failure({ subject: 'Hi', html: '', text: ' \n' }))).toEqual([
      { pointer: '/html', message: 'html or text is required' },
    ]);
  });

  it('refuses a part longer than the source limit', () => {
    const error = (() => {
      try {
        validateTemplate(
          { subject: 'Hi', text: 'x'.repeat(101) },
          { limits: { maxSourceChars: 100 } },
        );
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(templateIssues(error)).toEqual([
      { pointer: '/text', message: 'longer than 100 characters' },
    ]);
  });

  it('refuses a template whose trial render breaks a limit', () => {
    const error = failure({
      subject: 'Hi',
      html: '{% for i in (1..100000000) %}{{ i }}{% endfor %}',
    });
    expect(templateIssues(error)).toEqual([
      { pointer: '/html', line: 1, column: 1, message: 'memory alloc limit exceeded' },
    ]);
  });

  it('returns no issues for errors it did not build', () => {
    expect(templateIssues(new Error('x'))).toEqual([]);
    expect(templateIssues(new RelaisError('INTERNAL', 'x'))).toEqual([]);
  });
});
