import type { Router } from 'express';
import { buildOpenApi, buildRouter, type ApiInfo, type Route } from '@relais/http-api';
import type { Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';
import { createSqlAnalyticsStore } from './adapters/sql-analytics-store';
import { createSqlEngagementStore } from './adapters/sql-engagement-store';
import {
  DEFAULT_ATTRIBUTION_WINDOW_MS,
  getCampaignEngagement,
  postConversion,
} from './handlers/conversions';
import { getCampaignStats } from './handlers/get-campaign-stats';
import { kpiRoutes } from './handlers/get-kpis';
import { createSqlKpiStore } from './adapters/sql-kpi-store';
import { createSqlDashboardStore } from './adapters/sql-dashboard-store';
import { getDashboard } from './handlers/get-dashboard';
import type { AnalyticsLogEvent } from './log-events';

/** How the OpenAPI document introduces the analytics API. */
export const ANALYTICS_API_INFO: ApiInfo = {
  title: 'relais analytics API',
  version: '1.0.0',
  description:
    "Delivery figures of one tenant's campaigns. Every request carries `Authorization: Bearer <API key>`; another tenant's ids answer 404.",
};

/** The analytics route table (paths below `/v1`). */
export function analyticsRoutes(deps: { store: Store; attributionWindowMs?: number }): Route[] {
  const engagement = createSqlEngagementStore(deps.store);
  return [
    getCampaignStats(createSqlAnalyticsStore(deps.store)),
    getCampaignEngagement(engagement),
    postConversion(engagement, deps.attributionWindowMs ?? DEFAULT_ATTRIBUTION_WINDOW_MS),
    ...kpiRoutes(createSqlKpiStore(deps.store)),
    getDashboard(createSqlDashboardStore(deps.store)),
  ];
}

/** The OpenAPI 3 document of the analytics routes. */
export function analyticsOpenApi(): Record<string, unknown> {
  const store = new Proxy({} as Store, {
    get: () => {
      throw new Error('the OpenAPI document is built without a store');
    },
  });
  return buildOpenApi(analyticsRoutes({ store }), ANALYTICS_API_INFO);
}

/**
 * The analytics routes as a router for `/v1`. It shares that mount point with the campaign
 * API in `relais up`, so it lets paths it does not know through (no catch-all 404) and must
 * be mounted before the campaign router, whose catch-all would otherwise answer first.
 */
export function analyticsApi(deps: {
  store: Store;
  logger: Logger;
  attributionWindowMs?: number;
}): Router {
  return buildRouter(analyticsRoutes(deps), deps, {
    requestFailedAction: 'analytics.request.failed' satisfies AnalyticsLogEvent,
    notFound: false,
  });
}
