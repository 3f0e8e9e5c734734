import type { CampaignId } from '@relais/domain';
import type { Store } from '@relais/store';
import type {
  DashboardCampaign,
  DashboardMinute,
  DashboardPause,
  DashboardProvider,
  DashboardStore,
  DashboardThrottle,
} from '../dashboard-ports';
import { campaignFigures } from '../domain/stats';
import { emptyTotals, KPI_METRICS } from '../kpi/metrics';
import { createSqlKpiStore } from './sql-kpi-store';

// The dashboard polls every couple of seconds, so every statement below reads through an
// index: campaigns by tenant, messages and events by campaign (the listed ones only),
// kpi_hourly by tenant and hour, pauses in force by their partial index.

const CAMPAIGNS = `
SELECT id, name, status, status_reason, created_at, launched_at, finished_at
FROM campaigns WHERE tenant_id = $1
ORDER BY created_at DESC, id LIMIT $2`;

// Counts come back as text (int8) on both drivers; converted below.
const STATE_COUNTS = `
SELECT campaign_id, state, count(*) AS count FROM messages
WHERE campaign_id = ANY($1::uuid[]) AND tenant_id = $2
GROUP BY campaign_id, state`;

const COUNTER_SUMS = `
SELECT campaign_id, counter, sum(value) AS value FROM campaign_counters
WHERE campaign_id = ANY($1::uuid[])
GROUP BY campaign_id, counter`;

// final_at is set once, when the state became final: a minute's deliveries are the rows
// that became delivered in it.
const FINAL_BY_MINUTE = `
SELECT date_trunc('minute', final_at) AS t, state, count(*) AS count FROM messages
WHERE campaign_id = ANY($1::uuid[]) AND tenant_id = $2
  AND state IN ('delivered', 'bounced') AND final_at >= $3 AND final_at < $4
GROUP BY 1, 2`;

const HUMAN_ENGAGEMENT_BY_MINUTE = `
SELECT date_trunc('minute', occurred_at) AS t, kind, count(*) AS count FROM engagement_events
WHERE campaign_id = ANY($1::uuid[]) AND tenant_id = $2
  AND NOT machine AND occurred_at >= $3 AND occurred_at < $4
GROUP BY 1, 2`;

// The relay's state is the platform's (pools and sites are shared): a tenant sees only the
// pools its own mail went through.
const THROTTLES = `
SELECT pool, site, rate_per_second, concurrency, backoff_until, updated_at
FROM relay_throttle_state WHERE pool = ANY($1::text[])
ORDER BY pool, site LIMIT 200`;

const PAUSES = `
SELECT p.id, p.campaign_id, c.name AS campaign_name, p.scope_provider, p.scope_pool, p.source,
       p.metric, p.reason, p.evidence, p.paused_at
FROM campaign_pauses p
JOIN campaigns c ON c.tenant_id = p.tenant_id AND c.id = p.campaign_id
WHERE p.tenant_id = $1 AND p.resumed_at IS NULL
ORDER BY p.paused_at DESC, p.id LIMIT 100`;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
// uuid columns come back lowercase.
const key = (id: string): string => id.toLowerCase();
const dateOf = (value: Date | string | null): Date | null =>
  value === null ? null : new Date(value);

/** The DashboardStore of relais' PostgreSQL data model (either store driver). */
export function createSqlDashboardStore(store: Store): DashboardStore {
  const kpis = createSqlKpiStore(store);
  return {
    snapshot: async ({ tenantId, now, campaignLimit, seriesMinutes }) => {
      const { rows: campaignRows } = await store.query<{
        id: CampaignId;
        name: string;
        status: string;
        status_reason: string | null;
        created_at: Date | string;
        launched_at: Date | string | null;
        finished_at: Date | string | null;
      }>(CAMPAIGNS, [tenantId, campaignLimit]);
      const ids = campaignRows.map((row) => row.id);

      const states = await store.query<{ campaign_id: string; state: string; count: string }>(
        STATE_COUNTS,
        [ids, tenantId],
      );
      const counters = await store.query<{ campaign_id: string; counter: string; value: string }>(
        COUNTER_SUMS,
        [ids],
      );
      const campaigns: DashboardCampaign[] = campaignRows.map((row) => {
        const mine = (r: { campaign_id: string }) => key(r.campaign_id) === key(row.id);
        const figures = campaignFigures({
          stateCounts: states.rows.filter(mine).map((r) => ({ state: r.state, count: +r.count })),
          counterSums: counters.rows
            .filter(mine)
            .map((r) => ({ counter: r.counter, value: +r.value })),
        });
        const { pending, queued, sent, deferred } = figures.states;
        return {
          campaignId: row.id,
          name: row.name,
          status: row.status,
          statusReason: row.status_reason,
          createdAt: new Date(row.created_at),
          launchedAt: dateOf(row.launched_at),
          finishedAt: dateOf(row.finished_at),
          ...figures,
          inFlight: pending + queued + sent + deferred,
        };
      });

      // The current minute is the last point: it fills in as the page polls.
      const last = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
      const first = last - (seriesMinutes - 1) * MINUTE_MS;
      const series: DashboardMinute[] = Array.from({ length: seriesMinutes }, (_, i) => ({
        t: new Date(first + i * MINUTE_MS),
        delivered: 0,
        bounced: 0,
        humanOpens: 0,
        humanClicks: 0,
      }));
      const pointAt = (t: Date | string) =>
        series[Math.round((new Date(t).getTime() - first) / MINUTE_MS)];
      const range = [ids, tenantId, new Date(first), new Date(last + MINUTE_MS)];
      const finals = await store.query<{ t: Date | string; state: string; count: string }>(
        FINAL_BY_MINUTE,
        range,
      );
      for (const row of finals.rows) {
        const point = pointAt(row.t);
        if (point === undefined) continue;
        if (row.state === 'delivered') point.delivered += +row.count;
        else point.bounced += +row.count;
      }
      const engagement = await store.query<{ t: Date | string; kind: string; count: string }>(
        HUMAN_ENGAGEMENT_BY_MINUTE,
        range,
      );
      for (const row of engagement.rows) {
        const point = pointAt(row.t);
        if (point === undefined) continue;
        if (row.kind === 'open') point.humanOpens += +row.count;
        else point.humanClicks += +row.count;
      }

      const [total] = await kpis.report({ tenantId, groupBy: [] });
      // The health window is this UTC hour and the previous one: KPI slices are hourly.
      const healthSince = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS);
      const slices = await kpis.report({
        tenantId,
        groupBy: ['provider', 'pool'],
        from: healthSince,
      });
      const providers = new Map<string, DashboardProvider>();
      for (const slice of slices) {
        const name = slice.dimensions.provider ?? 'other';
        let entry = providers.get(name);
        if (entry === undefined) {
          entry = { provider: name, totals: emptyTotals(), pools: [] };
          providers.set(name, entry);
        }
        for (const metric of KPI_METRICS) entry.totals[metric] += slice.totals[metric];
        const pool = slice.dimensions.pool;
        if (pool !== undefined && pool !== 'unknown' && !entry.pools.includes(pool)) {
          entry.pools.push(pool);
        }
      }
      const pools = [...new Set([...providers.values()].flatMap((p) => p.pools))];
      const throttleRows = await store.query<{
        pool: string;
        site: string;
        rate_per_second: number;
        concurrency: number;
        backoff_until: Date | string | null;
        updated_at: Date | string;
      }>(THROTTLES, [pools]);
      const throttles: DashboardThrottle[] = throttleRows.rows.map((row) => ({
        pool: row.pool,
        site: row.site,
        ratePerSecond: Number(row.rate_per_second),
        concurrency: Number(row.concurrency),
        backoffUntil: dateOf(row.backoff_until),
        updatedAt: new Date(row.updated_at),
      }));

      const pauseRows = await store.query<{
        id: string;
        campaign_id: CampaignId;
        campaign_name: string;
        scope_provider: string;
        scope_pool: string;
        source: string;
        metric: string | null;
        reason: string;
        evidence: Record<string, unknown> | string | null;
        paused_at: Date | string;
      }>(PAUSES, [tenantId]);
      const pauses: DashboardPause[] = pauseRows.rows.map((row) => ({
        pauseId: row.id,
        campaignId: row.campaign_id,
        campaignName: row.campaign_name,
        provider: row.scope_provider,
        pool: row.scope_pool,
        source: row.source,
        metric: row.metric,
        reason: row.reason,
        evidence:
          typeof row.evidence === 'string'
            ? (JSON.parse(row.evidence) as Record<string, unknown>)
            : (row.evidence ?? {}),
        pausedAt: new Date(row.paused_at),
      }));

      return {
        campaigns,
        kpis: total?.totals ?? emptyTotals(),
        series,
        healthSince,
        providers: [...providers.values()].sort((a, b) => b.totals.sent - a.totals.sent),
        throttles,
        pauses,
      };
    },
  };
}
