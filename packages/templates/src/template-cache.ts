import { compileTemplate, type CompileOptions, type CompiledTemplate } from './compile';
import type { TemplateSource } from './types';

/** Compiled templates kept by content, least recently used evicted first. */
export interface TemplateCache {
  /** The compiled form of `source`, parsed on first use; throws like `compileTemplate`. */
  compile(source: TemplateSource): CompiledTemplate;
  readonly size: number;
}

/** Options of `createTemplateCache`; `limits` apply to every template it compiles. */
export interface TemplateCacheOptions extends CompileOptions {
  maxEntries?: number;
}

/**
 * A cache for callers that receive template source with each batch (the dispatcher). Keyed by
 * the source text itself, so an edited template can never be served from a stale entry.
 */
export function createTemplateCache(options: TemplateCacheOptions = {}): TemplateCache {
  const maxEntries = options.maxEntries ?? 100;
  const entries = new Map<string, CompiledTemplate>();
  return {
    get size() {
      return entries.size;
    },
    compile(source) {
      const key = JSON.stringify([source.subject, source.html ?? null, source.text ?? null]);
      const cached = entries.get(key);
      if (cached !== undefined) {
        // Re-inserting moves the entry to the back of the Map's insertion order: LRU for free.
        entries.delete(key);
        entries.set(key, cached);
        return cached;
      }
      const compiled = compileTemplate(source, options);
      entries.set(key, compiled);
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      return compiled;
    },
  };
}
