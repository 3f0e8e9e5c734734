import type { CsvValue } from './csv';
import { KPI_METRICS, KPI_RATES, kpiRates, type KpiRate, type KpiTotals } from './metrics';
import type { KpiDimension, KpiRow } from './ports';

/** The JSON field of each dimension. */
export const DIMENSION_FIELDS = {
  campaign: 'campaignId',
  variant: 'variant',
  provider: 'provider',
  pool: 'pool',
  hour: 'hour',
  day: 'day',
} as const satisfies Record<KpiDimension, keyof KpiRow['dimensions']>;

/** Every rate name, in export order. */
export const KPI_RATE_NAMES = Object.keys(KPI_RATES) as KpiRate[];

/** A metric or a rate: what a time series may plot. */
export type KpiSeriesMetric = (typeof KPI_METRICS)[number] | KpiRate;

/** The value of a metric or rate over some totals. */
export function metricValue(totals: KpiTotals, metric: KpiSeriesMetric): number {
  return metric in totals ? totals[metric as keyof KpiTotals] : kpiRates(totals)[metric as KpiRate];
}

/** One report row as CSV fields: the dimensions asked, every metric, every rate. */
export function csvHeader(dimensions: readonly KpiDimension[]): string[] {
  return [...dimensions.map((d) => DIMENSION_FIELDS[d]), ...KPI_METRICS, ...KPI_RATE_NAMES];
}

/** The CSV fields of a row, in `csvHeader` order. */
export function csvRow(dimensions: readonly KpiDimension[], row: KpiRow): CsvValue[] {
  const rates = kpiRates(row.totals);
  return [
    ...dimensions.map((d) => row.dimensions[DIMENSION_FIELDS[d]]),
    ...KPI_METRICS.map((m) => row.totals[m]),
    ...KPI_RATE_NAMES.map((r) => rates[r]),
  ];
}

const STEP_MS = { hour: 3_600_000, day: 86_400_000 } as const;

/** A series never holds more points than this (a year of hours); longer ranges are refused. */
export const MAX_SERIES_POINTS = 9_000;

/**
 * The buckets of a series from `first` to `last` (inclusive), so a chart shows an empty
 * hour as 0 rather than joining its neighbours.
 */
export function buckets(interval: 'hour' | 'day', first: Date, last: Date): Date[] {
  const step = STEP_MS[interval];
  const start = Math.floor(first.getTime() / step) * step;
  const out: Date[] = [];
  for (let t = start; t <= last.getTime() && out.length < MAX_SERIES_POINTS; t += step) {
    out.push(new Date(t));
  }
  return out;
}
