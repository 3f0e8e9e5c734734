import type { Router } from 'express';
import type { Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';
import { buildOpenApi, buildRouter, defineRoute, type ApiInfo, type Route } from '@relais/http-api';
import { allRoutes } from './routes';

/** The API's version as published in the OpenAPI document. */
export const API_VERSION = '1.0.0';

/** How the OpenAPI document introduces the API. */
export const API_INFO: ApiInfo = {
  title: 'relais campaign API',
  version: API_VERSION,
  description:
    "Contacts, consent, suppressions, segments, templates and campaigns of one tenant. Every request carries `Authorization: Bearer <API key>`; every query is scoped to the key's tenant, so another tenant's ids answer 404.",
};

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
      document ??= buildOpenApi([openapi, ...routes], API_INFO);
      return Promise.resolve(document);
    },
  });
  return [openapi, ...routes];
}

/**
 * The `/v1` router of the campaign API. It answers 404 for every path it does not know, so
 * another router sharing `/v1` on the same app must be mounted before it.
 */
export function campaignApi(deps: { store: Store; logger: Logger; now?: () => Date }): Router {
  return buildRouter(apiRoutes(deps), deps, { requestFailedAction: 'campaign.request.failed' });
}
