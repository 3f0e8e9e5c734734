import type { Router } from 'express';
import type { Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';
import { buildOpenApi } from './http/openapi';
import { defineRoute, type Route } from './http/route';
import { buildRouter } from './http/router';
import { allRoutes } from './routes';

/** The API's version as published in the OpenAPI document. */
export const API_VERSION = '1.0.0';

/** The route table plus the public route that serves its own OpenAPI document. */
export function apiRoutes(deps: { store: Store; logger: Logger; now?: () => Date }): Route[] {
  const routes = allRoutes({
    store: deps.store,
    logger: deps.logger,
    now: deps.now ?? (() => new Date()),
  });
  let document: unknown;
  const openapi = defineRoute({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    tag: 'Meta',
    public: true,
    handler: () => {
      document ??= buildOpenApi([openapi, ...routes], API_VERSION);
      return Promise.resolve(document);
    },
  });
  return [openapi, ...routes];
}

/** The `/v1` router of the campaign API. */
export function campaignApi(deps: { store: Store; logger: Logger; now?: () => Date }): Router {
  return buildRouter(apiRoutes(deps), deps);
}
