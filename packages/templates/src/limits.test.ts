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

// Which budget trips first (time or allocations) depends on how busy the machine is, and
// so does the elapsed time: the tests hold that the render is stopped by a limit, with a
// bound that only a hang would break, not a timing figure (benchmarks measure speed).
const HANG_MS = 10_000;

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
  ])('stops %s in the html part by a limit', (_name, html, limit) => {
    const { elapsedMs, message } = timedFailure({ subject: 's', html });
    expect([`${limit} limit exceeded`, 'template render limit exceeded']).toContain(message);
    expect(elapsedMs).toBeLessThan(HANG_MS);
  });

  it('stops a loop writing large data into unescaped text by a limit', () => {
    const { elapsedMs, message } = timedFailure({
      subject: 's',
      text: '{% for i in (1..1000000) %}{{ contact.big }}{% endfor %}',
    });
    expect(message).toMatch(/limit exceeded|Invalid string length/);
    expect(elapsedMs).toBeLessThan(HANG_MS);
  });

  it('stops a runaway subject the same way', () => {
    const { message } = timedFailure({
      subject: '{% for i in (1..100000000) %}x{% endfor %}',
      text: 't',
    });
    expect(['memory alloc limit exceeded', 'template render limit exceeded']).toContain(message);
  });

  it('honours tighter limits given at compile time', () => {
    const template = compileTemplate(
      { subject: 's', text: '{% for i in (1..1000) %}{{ i }}{% endfor %}' },
      { limits: { maxAllocations: 100 } },
    );
    expect(() => template.render(context)).toThrow('memory alloc limit exceeded');
  });
});
