import { describe, expect, it } from 'vitest';
import { createCompiledTemplates, type StoredTemplate } from './compiled-templates';

const stored = (overrides: Partial<StoredTemplate> = {}): StoredTemplate => ({
  id: 't1',
  subject: 'Hi {{ contact.first_name }}',
  text: 'Hello',
  updatedAt: new Date('2026-01-01T00:00:00Z'),
  ...overrides,
});

describe('createCompiledTemplates', () => {
  it('compiles a template version once and serves the same compiled form after', () => {
    const templates = createCompiledTemplates();
    const first = templates.get(stored());
    const again = templates.get(stored());
    expect(first.ok).toBe(true);
    expect(again).toBe(first);
    expect(templates.size).toBe(1);
  });

  it('compiles an edited template anew, by its updated_at', () => {
    const templates = createCompiledTemplates();
    const before = templates.get(stored());
    const after = templates.get(
      stored({ subject: 'Edited', updatedAt: new Date('2026-01-02T00:00:00Z') }),
    );
    expect(after).not.toBe(before);
    expect(after.ok && after.template.render({ contact: { email: 'a@b.test' } }).subject).toBe(
      'Edited',
    );
  });

  it('keeps a broken template as a failure instead of throwing, and caches that too', () => {
    const templates = createCompiledTemplates();
    const broken = templates.get(stored({ subject: '{% if %}' }));
    expect(broken).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(templates.get(stored({ subject: '{% if %}' }))).toBe(broken);
  });

  it('evicts the least recently used entry beyond its capacity', () => {
    const templates = createCompiledTemplates(2);
    const a = templates.get(stored({ id: 'a' }));
    templates.get(stored({ id: 'b' }));
    templates.get(stored({ id: 'a' }));
    templates.get(stored({ id: 'c' }));
    expect(templates.size).toBe(2);
    expect(templates.get(stored({ id: 'a' }))).toBe(a);
  });
});
