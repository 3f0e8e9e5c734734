import { describe, expect, it } from 'vitest';
import { createTemplateCache } from './template-cache';

describe('createTemplateCache', () => {
  it('returns the same compiled template for the same source', () => {
    const cache = createTemplateCache();
    const first = cache.compile({ subject: 'Hi', text: '{{ contact.email }}' });
    expect(cache.compile({ subject: 'Hi', text: '{{ contact.email }}' })).toBe(first);
    expect(cache.size).toBe(1);
  });

  it('compiles again when any part changes', () => {
    const cache = createTemplateCache();
    const first = cache.compile({ subject: 'Hi', text: 'a' });
    expect(cache.compile({ subject: 'Hi', text: 'b' })).not.toBe(first);
    expect(cache.compile({ subject: 'Hi', html: 'a' })).not.toBe(first);
    expect(cache.size).toBe(3);
  });

  it('evicts the least recently used entry past maxEntries', () => {
    const cache = createTemplateCache({ maxEntries: 2 });
    const a = cache.compile({ subject: 'a', text: 't' });
    cache.compile({ subject: 'b', text: 't' });
    cache.compile({ subject: 'a', text: 't' });
    cache.compile({ subject: 'c', text: 't' });
    expect(cache.size).toBe(2);
    expect(cache.compile({ subject: 'a', text: 't' })).toBe(a);
  });

  it('caches nothing for a template that fails to compile', () => {
    const cache = createTemplateCache();
    expect(() => cache.compile({ subject: 'a', text: '{% if %}' })).toThrow();
    expect(cache.size).toBe(0);
  });
});
