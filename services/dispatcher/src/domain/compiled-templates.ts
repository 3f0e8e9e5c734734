import { toRelaisError, type RelaisError } from '@relais/domain';
import { compileTemplate, type CompiledTemplate, type TemplateSource } from '@relais/templates';

/** A template row as the store returns it. */
export interface StoredTemplate extends TemplateSource {
  id: string;
  /** Bumped by every edit; part of the cache key, so an edited template is compiled anew. */
  updatedAt: Date;
}

/** A compiled template, or why it cannot be used (a template saved before a check existed). */
export type TemplateEntry =
  { ok: true; template: CompiledTemplate } | { ok: false; error: RelaisError };

/** Compiled templates by id and version, least recently used evicted first. */
export interface CompiledTemplates {
  /** The compiled form of `stored`, parsed on first use of this version. */
  get(stored: StoredTemplate): TemplateEntry;
  readonly size: number;
}

/**
 * Keyed by id + updated_at rather than by source text (as `createTemplateCache` is): the key
 * costs nothing to build, and a batch of hundreds of recipients sharing two templates
 * compiles them at most once per process. A compile failure is cached too, so a broken
 * template fails its recipients fast instead of being parsed for each.
 */
export function createCompiledTemplates(maxEntries = 200): CompiledTemplates {
  const entries = new Map<string, TemplateEntry>();
  return {
    get size() {
      return entries.size;
    },
    get(stored) {
      const key = `${stored.id}@${stored.updatedAt.getTime()}`;
      const cached = entries.get(key);
      if (cached !== undefined) {
        // Re-inserting moves the entry to the back of the Map's order: LRU for free.
        entries.delete(key);
        entries.set(key, cached);
        return cached;
      }
      let entry: TemplateEntry;
      try {
        entry = { ok: true, template: compileTemplate(stored) };
      } catch (error) {
        entry = { ok: false, error: toRelaisError(error, 'VALIDATION_FAILED') };
      }
      entries.set(key, entry);
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      return entry;
    },
  };
}
