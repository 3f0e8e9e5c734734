import type { Route } from '@relais/http-api';
import { campaignRoutes } from './campaigns';
import { contactRoutes } from './contacts';
import type { RouteDeps } from './context';
import { importRoutes } from './imports';
import { segmentRoutes } from './segments';
import { suppressionRoutes } from './suppressions';
import { templateRoutes } from './templates';
import { tenantRoutes } from './tenant';

export type { RouteDeps } from './context';

/** Every operation of the API, in the order the OpenAPI document lists them. */
export function allRoutes(deps: RouteDeps): Route[] {
  // The import path must come before `/contacts/:contactId` so "imports" is not taken for an id.
  return [
    ...tenantRoutes(deps),
    ...importRoutes(deps),
    ...contactRoutes(deps),
    ...suppressionRoutes(deps),
    ...segmentRoutes(deps),
    ...templateRoutes(deps),
    ...campaignRoutes(deps),
  ];
}
