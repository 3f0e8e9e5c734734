/**
 * The HTTP kit of relais' public APIs: routes declared once (router and OpenAPI document
 * generated from the same schemas), API key authentication scoped to a tenant, input
 * validation and one JSON error shape mapped from RelaisError codes.
 */
export { defineRoute, type Route, type RouteInput, type TenantScope } from './route';
export { buildRouter, openApiPath, type RouterOptions } from './router';
export { buildOpenApi, type ApiInfo } from './openapi';
export {
  HTTP_STATUS,
  InputError,
  errorBody,
  errorHandler,
  type ErrorBody,
  type InputIssue,
} from './errors';
export { parseInput, toPointer, type InputPart } from './validate';
export { authenticate, hashApiKeySecret, newApiKeyMaterial } from './api-keys';
export { id, isoDate, limitQuery, page } from './schemas';
