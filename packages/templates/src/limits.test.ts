import { describe, expect, it } from 'vitest';
import { compileTemplate } from './compile';
import { templateIssues } from './template-errors';
import type { TemplateSource } from './types';

const context = { contact: { email: 'a@example.com', attributes: { big: 'x'.repeat(10_000) } } };

function timedFailure(source: TemplateSource): { elapsedMs: number; message: string } {
  const template = compileTemplate(source);
  const started = performance.now();
  try {
    template.render(context);
  } catch (error) {
    const [issue] = templateIssues(error);
    return { elapsedMs: performance.now() - started, message: issue?.message ?? String(error) };
  }
  throw new Error('expected the render to fail');
}

describe('render limits', () => {
  it.each([
    ['a hundred-million range', '{% for i in (1..100000000) %}{{ i }}{% endfor %}', 'memory alloc'],
    [
      'nested loops of a billion steps',
      '{% for i in (1..1000) %}{% for j in (1..1000) %}{% for k in (1..1000) %}{% endfor %}{% endfor %}{% endfor %}',
      'template render',
    ],
    [
      'a string doubled forty times',
      '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}',
      'memory alloc',
    ],
    [
      'sorting a huge range',
      '{% assign r = (1..1900000) %}{{ r | sort | reverse | join | size }}',
      'memory alloc',
    ],
  ])('stops %s in the html part within a second', (_name, html, limit) => {
    const { elapsedMs, message } = timedFailure({ subject: 's', html });
    expect(message).toBe(`${limit} limit exceeded`);
    expect(elapsedMs).toBeLessThan(1_000);
  });

  it('stops a loop writing large data into unescaped text within a second', () => {
    const { elapsedMs, message } = timedFailure({
      subject: 's',
      text: '{% for i in (1..1000000) %}{{ contact.big }}{% endfor %}',
    });
    expect(message).toMatch(/limit exceeded|Invalid string length/);
    expect(elapsedMs).toBeLessThan(1_000);
  });

  it('stops a runaway subject the same way', () => {
    const { message } = timedFailure({
      subject: '{% for i in (1..100000000) %}x{% endfor %}',
      text: 't',
    });
    expect(message).toBe('memory alloc limit exceeded');
  });

  it('honours tighter limits given at compile time', () => {
    const template = compileTemplate(
      { subject: 's', text: '{% for i in (1..1000) %}{{ i }}{% endfor %}' },
      { limits: { maxAllocations: 100 } },
    );
    expect(() => template.render(context)).toThrow('memory alloc limit exceeded');
  });
});
