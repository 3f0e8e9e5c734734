import type { Request, Response } from 'express';
import { z } from 'zod';
import { RelaisError, type CampaignId } from '@relais/domain';
import { defineRoute, id, isoDate, type Route } from '@relais/http-api';
import { toCsv } from '../kpi/csv';
import { KPI_COUNTS, KPI_METRICS, KPI_RATES, emptyTotals, kpiRates } from '../kpi/metrics';
import { KPI_DIMENSIONS, type KpiDimension, type KpiStore } from '../kpi/ports';
import {
  DIMENSION_FIELDS,
  KPI_RATE_NAMES,
  MAX_SERIES_POINTS,
  buckets,
  csvHeader,
  csvRow,
  metricValue,
  type KpiSeriesMetric,
} from '../kpi/report';

const count = z.number().int().min(0);
const CSV = 'text/csv';

const metricsView = z
  .object({
    ...Object.fromEntries(KPI_COUNTS.map((c) => [c, count])),
    revenue: z.number().min(0).describe('Sum of conversion amounts (major currency unit).'),
  })
  .describe('Counts of the group: unique metrics once per message, the others per event.');
const ratesView = z
  .object(
    Object.fromEntries(
      Object.entries(KPI_RATES).map(([rate, definition]) => [
        rate,
        z.number().min(0).describe(definition),
      ]),
    ),
  )
  .describe('Computed on read; a rate over nothing is 0.');

/** The published shape of one KPI group. */
export const kpiRowView = z.object({
  campaignId: id.optional(),
  variant: z.string().optional(),
  provider: z.string().optional().describe('google, microsoft, yahoo, apple, orange, … or other'),
  pool: z.string().optional(),
  hour: isoDate.optional(),
  day: isoDate.optional(),
  metrics: metricsView,
  rates: ratesView,
});

const groupBy = z
  .string()
  .default('campaign')
  .describe(
    `Comma-separated dimensions among ${KPI_DIMENSIONS.join(', ')}; empty for one total row.`,
  )
  .transform((text, ctx) => {
    const names = text
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    const unknown = names.filter((name) => !(KPI_DIMENSIONS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      ctx.addIssue({ code: 'custom', message: `unknown dimension(s): ${unknown.join(', ')}` });
    }
    return [...new Set(names)] as KpiDimension[];
  });

const range = {
  campaignId: id.optional().describe('Only this campaign.'),
  from: isoDate.optional().describe('Hours from this time on (inclusive).'),
  to: isoDate.optional().describe('Hours before this time (exclusive).'),
  format: z.enum(['json', 'csv']).optional().describe('csv: same as `Accept: text/csv`.'),
};

type Range = { campaignId?: string; from?: string; to?: string };

function rangeOf(query: Range): { campaignId?: CampaignId; from?: Date; to?: Date } {
  const from = query.from === undefined ? undefined : new Date(query.from);
  const to = query.to === undefined ? undefined : new Date(query.to);
  if (from && to && from >= to) {
    throw new RelaisError('VALIDATION_FAILED', '`from` must be before `to`', {
      details: { parameter: 'from' },
    });
  }
  return {
    ...(query.campaignId !== undefined && { campaignId: query.campaignId as CampaignId }),
    ...(from && { from }),
    ...(to && { to }),
  };
}

/** CSV when `format=csv` or the Accept header prefers it over JSON. */
function wantsCsv(req: Request, format: 'json' | 'csv' | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  return req.accepts(['application/json', CSV]) === CSV;
}

function sendCsv(res: Response, name: string, body: string): void {
  res
    .status(200)
    .type('text/csv; charset=utf-8; header=present')
    .set('Content-Disposition', `inline; filename="${name}.csv"`)
    .send(body);
}

/** GET /kpis: the tenant's KPI slices summed by the dimensions asked. */
export function getKpis(store: KpiStore): Route {
  return defineRoute({
    method: 'get',
    path: '/kpis',
    operationId: 'getKpis',
    summary: 'KPIs grouped by campaign, variant, provider, pool, hour or day',
    description:
      'Sent, delivered, deferred, bounces, complaints, opens (machine opens apart), clicks, unsubscribes, conversions and revenue with their rates. Times are UTC hours; rows come in dimension order.',
    tag: 'Analytics',
    query: z.object({ ...range, groupBy }),
    response: z.object({ groupBy: z.array(z.enum(KPI_DIMENSIONS)), rows: z.array(kpiRowView) }),
    alsoProduces: [
      {
        mediaType: CSV,
        description:
          'with `Accept: text/csv` or `format=csv`: RFC 4180, a header row of the dimensions, every metric and every rate; ISO 8601 times, plain numbers.',
      },
    ],
    handler: async ({ scope, query, req, res }) => {
      const dimensions = query.groupBy;
      const rows = await store.report({
        tenantId: scope.tenantId,
        groupBy: dimensions,
        ...rangeOf(query),
      });
      if (wantsCsv(req, query.format)) {
        sendCsv(
          res,
          'relais-kpis',
          toCsv(
            csvHeader(dimensions),
            rows.map((row) => csvRow(dimensions, row)),
          ),
        );
        return undefined;
      }
      return {
        groupBy: dimensions,
        rows: rows.map((row) => ({
          ...Object.fromEntries(
            Object.entries(row.dimensions).map(([k, v]) => [
              k,
              v instanceof Date ? v.toISOString() : v,
            ]),
          ),
          metrics: row.totals,
          rates: kpiRates(row.totals),
        })),
      };
    },
  });
}

const SERIES_METRICS = [...KPI_METRICS, ...KPI_RATE_NAMES] as [
  KpiSeriesMetric,
  ...KpiSeriesMetric[],
];
const SERIES_BY = ['campaign', 'variant', 'provider', 'pool'] as const;

/** GET /kpis/timeseries: one metric or rate per hour or day, optionally one series per value. */
export function getKpiTimeseries(store: KpiStore): Route {
  return defineRoute({
    method: 'get',
    path: '/kpis/timeseries',
    operationId: 'getKpiTimeseries',
    summary: 'One KPI over time',
    description:
      'A point per interval from `from` (or the first data) to `to` (or the last data), empty intervals as 0; with `by`, one series per value of that dimension.',
    tag: 'Analytics',
    query: z.object({
      ...range,
      metric: z.enum(SERIES_METRICS).describe('A count, `revenue`, or a rate (deliveryRate…).'),
      interval: z.enum(['hour', 'day']).default('hour'),
      by: z.enum(SERIES_BY).optional().describe('One series per value of this dimension.'),
    }),
    response: z.object({
      metric: z.string(),
      interval: z.enum(['hour', 'day']),
      series: z.array(
        z.object({
          campaignId: id.optional(),
          variant: z.string().optional(),
          provider: z.string().optional(),
          pool: z.string().optional(),
          points: z.array(z.object({ t: isoDate, value: z.number() })),
        }),
      ),
    }),
    alsoProduces: [
      {
        mediaType: CSV,
        description:
          'with `Accept: text/csv` or `format=csv`: columns t, the `by` dimension, value.',
      },
    ],
    handler: async ({ scope, query, req, res }) => {
      const interval = query.interval;
      const filter = rangeOf(query);
      const rows = await store.report({
        tenantId: scope.tenantId,
        groupBy: query.by === undefined ? [interval] : [query.by, interval],
        ...filter,
      });
      const times = rows.map((row) => row.dimensions[interval]!.getTime());
      const first = filter.from ?? (times.length > 0 ? new Date(Math.min(...times)) : undefined);
      const last =
        filter.to !== undefined
          ? new Date(filter.to.getTime() - 1)
          : times.length > 0
            ? new Date(Math.max(...times))
            : undefined;
      const axis = first && last ? buckets(interval, first, last) : [];
      if (axis.length >= MAX_SERIES_POINTS) {
        throw new RelaisError(
          'VALIDATION_FAILED',
          `at most ${MAX_SERIES_POINTS} points per series: narrow from/to or use interval=day`,
          {
            details: { parameter: 'from' },
          },
        );
      }
      const field = query.by === undefined ? undefined : DIMENSION_FIELDS[query.by];
      const groups = new Map<string, Map<number, number>>();
      for (const row of rows) {
        const key = field === undefined ? '' : String(row.dimensions[field]);
        let points = groups.get(key);
        if (points === undefined) groups.set(key, (points = new Map<number, number>()));
        points.set(row.dimensions[interval]!.getTime(), metricValue(row.totals, query.metric));
      }
      const zero = metricValue(emptyTotals(), query.metric);
      const series = [...groups.entries()].map(([key, points]) => ({
        ...(field !== undefined && { [field]: key }),
        points: axis.map((t) => ({ t: t.toISOString(), value: points.get(t.getTime()) ?? zero })),
      }));
      if (wantsCsv(req, query.format)) {
        const header = field === undefined ? ['t', query.metric] : ['t', field, query.metric];
        const lines = series.flatMap((s) =>
          s.points.map((p) =>
            field === undefined
              ? [p.t, p.value]
              : [p.t, (s as Record<string, unknown>)[field] as string, p.value],
          ),
        );
        sendCsv(res, `relais-${query.metric}`, toCsv(header, lines));
        return undefined;
      }
      return { metric: query.metric, interval, series };
    },
  });
}

/** The KPI routes (paths below `/v1`). */
export function kpiRoutes(store: KpiStore): Route[] {
  return [getKpis(store), getKpiTimeseries(store)];
}
