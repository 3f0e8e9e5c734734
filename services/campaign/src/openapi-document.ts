import type { Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { API_INFO, apiRoutes } from './api';
import { buildOpenApi } from '@relais/http-api';

/**
 * The document as served at /v1/openapi.json. Building it needs no database: routes only
 * touch the store when a request runs, so a stand-in that refuses every call is enough.
 */
export function openApiDocument(): Record<string, unknown> {
  const store = new Proxy({} as Store, {
    get: () => {
      throw new Error('the OpenAPI document is built without a store');
    },
  });
  const logger = createLogger({ service: 'openapi', level: 'silent' });
  return buildOpenApi(apiRoutes({ store, logger }), API_INFO);
}
