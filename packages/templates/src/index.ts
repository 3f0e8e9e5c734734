export { compileTemplate, type CompiledTemplate, type CompileOptions } from './compile';
export { validateTemplate } from './validate';
export {
  createTemplateCache,
  type TemplateCache,
  type TemplateCacheOptions,
} from './template-cache';
export { sanitizeSubject } from './subject';
export { templateIssues } from './template-errors';
export { DEFAULT_TEMPLATE_LIMITS } from './engine';
export type {
  AttributeValue,
  RenderContext,
  RenderedMessage,
  TemplateIssue,
  TemplateLimits,
  TemplatePointer,
  TemplateSource,
} from './types';
