import { Liquid } from 'liquidjs';
import type { TemplateLimits } from './types';

/** Bounds used when the caller gives none; see README "Limits" for how they were chosen. */
export const DEFAULT_TEMPLATE_LIMITS: Readonly<TemplateLimits> = {
  maxSourceChars: 1_000_000,
  renderTimeoutMs: 250,
  maxAllocations: 2_000_000,
};

/** The two Liquid configurations a template needs: HTML-escaping for `html`, verbatim for the rest. */
export interface Engines {
  html: Liquid;
  plain: Liquid;
}

// Tags that read other templates. With no partial store they could only reach the disk (or,
// given `templates: {}`, fail at render time); removing them makes their use a syntax error
// the API reports when the template is saved.
const FILE_TAGS = ['include', 'render', 'layout', 'block'] as const;

// The escape family already escapes; marking it raw stops the automatic output escape from
// escaping its result a second time (`{{ name | escape }}` is common in pasted Shopify markup).
// Any filter after it clears the mark, so the result is over-escaped, never under-escaped.
const SELF_ESCAPING_FILTERS = ['escape', 'escape_once', 'xml_escape'] as const;

function createEngine(limits: TemplateLimits, escapeHtml: boolean): Liquid {
  const engine = new Liquid({
    outputEscape: escapeHtml ? 'escape' : undefined,
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    templates: {},
    cache: false,
    // Output must not depend on the host the dispatcher happens to run on.
    timezoneOffset: 0,
    locale: 'en-US',
    parseLimit: limits.maxSourceChars,
    renderLimit: limits.renderTimeoutMs,
    memoryLimit: limits.maxAllocations,
  });
  for (const tag of FILE_TAGS) delete engine.tags[tag];
  if (escapeHtml) {
    for (const name of SELF_ESCAPING_FILTERS) {
      const builtin = engine.filters[name];
      if (typeof builtin === 'function') {
        engine.registerFilter(name, { handler: builtin, raw: true });
      }
    }
  }
  return engine;
}

let defaultEngines: Engines | undefined;

/** Engines for `limits`; the defaults are built once per process and shared. */
export function enginesFor(limits: Partial<TemplateLimits> | undefined): {
  engines: Engines;
  limits: TemplateLimits;
} {
  const custom = limits !== undefined && Object.values(limits).some((value) => value !== undefined);
  if (!custom) {
    defaultEngines ??= {
      html: createEngine(DEFAULT_TEMPLATE_LIMITS, true),
      plain: createEngine(DEFAULT_TEMPLATE_LIMITS, false),
    };
    return { engines: defaultEngines, limits: DEFAULT_TEMPLATE_LIMITS };
  }
  const merged = { ...DEFAULT_TEMPLATE_LIMITS, ...stripUndefined(limits) };
  return {
    engines: { html: createEngine(merged, true), plain: createEngine(merged, false) },
    limits: merged,
  };
}

function stripUndefined(limits: Partial<TemplateLimits>): Partial<TemplateLimits> {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
}
