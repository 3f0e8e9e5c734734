import { z } from 'zod';
import { defineRoute, id, isoDate, type Route } from '@relais/http-api';
import type { DashboardProvider, DashboardStore, DashboardThrottle } from '../dashboard-ports';
import { kpiRates, type KpiTotals } from '../kpi/metrics';
import { campaignStatsView } from './get-campaign-stats';
import { kpiRowView } from './get-kpis';

/** Newest campaigns the dashboard lists; its series counts their deliveries. */
export const DASHBOARD_CAMPAIGNS = 20;
/** Minutes of the chart series. */
export const DASHBOARD_SERIES_MINUTES = 60;

const count = z.number().int().min(0);
const share = z.number().min(0).max(1);

const campaignView = campaignStatsView.extend({
  name: z.string(),
  statusReason: z.string().nullable().describe('Why it is paused or cancelled.'),
  createdAt: isoDate,
  launchedAt: isoDate.nullable(),
  inFlight: count.describe('Recipients pending, queued, sent or deferred.'),
  progress: share.describe('Share of the recipients no longer in flight.'),
});

const providerView = z.object({
  provider: z.string().describe('google, microsoft, yahoo, … or other'),
  pools: z.array(z.string()),
  attempts: count.describe('delivered + deferred + bounced + expired in the window'),
  sent: count,
  delivered: count,
  deferred: count.describe('Deferral attempts.'),
  bounced: count,
  complaints: count,
  rates: z
    .object({ delivered: share, deferred: share, bounced: share, complaints: share })
    .describe('delivered, deferred, bounced: shares of the attempts; complaints: of delivered.'),
  learnedRatePerSecond: z
    .number()
    .nullable()
    .describe("The relay's current pace for the site of this name, summed over pools."),
});

const throttleView = z.object({
  pool: z.string(),
  site: z.string(),
  ratePerSecond: z.number(),
  concurrency: z.number(),
  backoffUntil: isoDate.nullable(),
  updatedAt: isoDate,
});

const pauseView = z.object({
  pauseId: id,
  campaignId: id,
  campaignName: z.string(),
  provider: z.string().describe("'' for every provider"),
  pool: z.string().describe("'' for every pool"),
  source: z.enum(['breaker', 'user']),
  metric: z.string().nullable(),
  reason: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  pausedAt: isoDate,
});

/** The published shape of the dashboard snapshot. */
export const dashboardView = z.object({
  generatedAt: isoDate,
  campaigns: z.array(campaignView).describe(`The ${DASHBOARD_CAMPAIGNS} newest, newest first.`),
  kpis: kpiRowView.pick({ metrics: true, rates: true }).describe('All campaigns, all time.'),
  series: z
    .object({
      interval: z.literal('minute'),
      points: z.array(
        z.object({
          t: isoDate,
          delivered: count,
          bounced: count,
          humanOpens: count,
          humanClicks: count,
        }),
      ),
    })
    .describe(
      `Per minute over the last ${DASHBOARD_SERIES_MINUTES}, the current minute last, for the listed campaigns.`,
    ),
  health: z.object({
    since: isoDate.describe('Start of the previous UTC hour: KPI slices are hourly.'),
    providers: z.array(providerView),
    throttles: z.array(throttleView),
  }),
  pauses: z.array(pauseView).describe('Paused slices in force, newest first.'),
});

const ratio = (part: number, whole: number): number =>
  whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;

/** A provider's outcome shares, and the relay's pace for the site named like it. */
export function providerHealth(
  provider: DashboardProvider,
  throttles: readonly DashboardThrottle[],
): z.infer<typeof providerView> {
  const t: KpiTotals = provider.totals;
  const bounced = t.bounced_hard + t.bounced_soft;
  const attempts = t.delivered + t.deferred + bounced + t.expired;
  // Relay sites are named after provider profiles (google, microsoft, …); a site the relay
  // made up for an unknown MX (`default:host:port`) has no provider to sit beside.
  const paces = throttles.filter(
    (s) => s.site === provider.provider && provider.pools.includes(s.pool),
  );
  return {
    provider: provider.provider,
    pools: provider.pools,
    attempts,
    sent: t.sent,
    delivered: t.delivered,
    deferred: t.deferred,
    bounced,
    complaints: t.complaints,
    rates: {
      delivered: ratio(t.delivered, attempts),
      deferred: ratio(t.deferred, attempts),
      bounced: ratio(bounced, attempts),
      complaints: ratio(t.complaints, t.delivered),
    },
    learnedRatePerSecond:
      paces.length === 0 ? null : paces.reduce((sum, s) => sum + s.ratePerSecond, 0),
  };
}

/** GET /dashboard: everything the web dashboard shows, in one read. */
export function getDashboard(store: DashboardStore, clock: () => Date = () => new Date()): Route {
  return defineRoute({
    method: 'get',
    path: '/dashboard',
    operationId: 'getDashboard',
    summary: 'Snapshot for the web dashboard',
    description:
      'Newest campaigns with live progress (the same figures as their stats), KPI totals, a per-minute series, provider health over the last two UTC hours with the relay’s learned pace, and the paused slices in force with their reasons. The page at `/dashboard` polls it.',
    tag: 'Analytics',
    response: dashboardView,
    handler: async ({ scope }) => {
      const now = clock();
      const snapshot = await store.snapshot({
        tenantId: scope.tenantId,
        now,
        campaignLimit: DASHBOARD_CAMPAIGNS,
        seriesMinutes: DASHBOARD_SERIES_MINUTES,
      });
      return {
        generatedAt: now,
        campaigns: snapshot.campaigns.map((c) => ({
          ...c,
          progress: ratio(c.recipients - c.inFlight, c.recipients),
        })),
        kpis: { metrics: snapshot.kpis, rates: kpiRates(snapshot.kpis) },
        series: { interval: 'minute' as const, points: snapshot.series },
        health: {
          since: snapshot.healthSince,
          providers: snapshot.providers.map((p) => providerHealth(p, snapshot.throttles)),
          throttles: snapshot.throttles,
        },
        pauses: snapshot.pauses,
      };
    },
  });
}
