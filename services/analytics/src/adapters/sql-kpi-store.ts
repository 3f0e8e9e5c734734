import { providerOf, type CampaignId } from '@relais/domain';
import type { Queryable, Store } from '@relais/store';
import { KPI_COUNTS, KPI_METRICS, emptyTotals, type KpiCount } from '../kpi/metrics';
import type { KpiDimension, KpiFact, KpiRow, KpiStore } from '../kpi/ports';
import type { OutcomeEvent, RecordResult } from '../ports';
import {
  BREAKER_COUNTS,
  recordBreakerCounts,
  type BreakerCount,
  type BreakerIncrement,
} from './sql-breaker-store';

// Set-based like the outcome statements: a batch costs the same few round trips as one
// event. Only campaign mail has slices: every join below requires a campaign.

const CLAIM = `
INSERT INTO inbox (consumer, envelope_id)
SELECT $1, unnest($2::uuid[])
ON CONFLICT DO NOTHING
RETURNING envelope_id`;

/** The first delivery event of a message fixes its slice; the rows that come back are `sent`. */
const FIX_ROUTES = `
INSERT INTO kpi_message_dims (message_id, provider, pool)
SELECT m.id, v.provider, v.pool
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS v(id, tenant_id, provider, pool)
JOIN messages m ON m.id = v.id AND m.tenant_id = v.tenant_id AND m.campaign_id IS NOT NULL
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id`;

/** The marks that come back are first times: their unique metric counts. */
const MARK = `
INSERT INTO kpi_message_marks (message_id, metric)
SELECT m.id, v.metric
FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS v(id, tenant_id, metric)
JOIN messages m ON m.id = v.id AND m.tenant_id = v.tenant_id AND m.campaign_id IS NOT NULL
ON CONFLICT DO NOTHING
RETURNING message_id, metric`;

/**
 * Human click marks the tracking store no longer backs: a scanner burst re-marked as
 * machine leaves the message without a human click (\`human_clicked_at\` recomputed in the
 * transaction that published the machine click). Each comes back with the hour of the
 * message's first click, the one that counted it.
 */
const RETRACT_HUMAN_CLICKS = `
DELETE FROM kpi_message_marks k
USING unnest($1::uuid[], $2::uuid[]) AS v(id, tenant_id), messages m
WHERE k.message_id = v.id AND k.metric = 'clicks_human_unique'
  AND m.id = v.id AND m.tenant_id = v.tenant_id AND m.human_clicked_at IS NULL
RETURNING k.message_id,
  (SELECT min(e.occurred_at) FROM engagement_events e
   WHERE e.message_id = k.message_id AND e.kind = 'click') AS first_click`;

const SLICES = `
SELECT m.id, m.campaign_id, coalesce(m.variant, '') AS variant, m.domain, d.provider, d.pool
FROM messages m
JOIN unnest($1::uuid[], $2::uuid[]) AS v(id, tenant_id) ON m.id = v.id AND m.tenant_id = v.tenant_id
LEFT JOIN kpi_message_dims d ON d.message_id = m.id
WHERE m.campaign_id IS NOT NULL`;

const KEY_COLUMNS = ['tenant_id', 'campaign_id', 'variant', 'provider', 'pool', 'hour', 'shard'];
const KEY_TYPES = ['uuid', 'uuid', 'text', 'text', 'text', 'timestamptz', 'smallint'];
const COLUMNS = [...KEY_COLUMNS, ...KPI_COUNTS, 'revenue'];
const TYPES = [...KEY_TYPES, ...KPI_COUNTS.map(() => 'bigint'), 'numeric'];
const UPSERT = `
INSERT INTO kpi_hourly (${COLUMNS.join(', ')})
SELECT * FROM unnest(${TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})
ON CONFLICT (${KEY_COLUMNS.join(', ')}) DO UPDATE SET
${KPI_METRICS.map((m) => `  ${m} = kpi_hourly.${m} + EXCLUDED.${m}`).join(',\n')}`;

/** The SQL of each dimension: a closed table, so no request text ever reaches the SQL. */
const DIMENSION_SQL: Record<KpiDimension, string> = {
  campaign: 'campaign_id',
  variant: 'variant',
  provider: 'provider',
  pool: 'pool',
  hour: 'hour',
  day: `date_trunc('day', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
};
const DIMENSION_FIELD = {
  campaign: 'campaignId',
  variant: 'variant',
  provider: 'provider',
  pool: 'pool',
  hour: 'hour',
  day: 'day',
} as const satisfies Record<KpiDimension, keyof KpiRow['dimensions']>;

// uuid columns come back lowercase; envelopes may carry either case.
const key = (id: string): string => id.toLowerCase();
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const hourOf = (at: Date): Date => new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);

interface Slice {
  campaignId: CampaignId;
  variant: string;
  provider: string;
  pool: string;
}

interface Increment {
  values: (string | number)[];
  counts: Record<KpiCount, number>;
  revenue: number;
}

/**
 * Adds facts to their slices inside the caller's transaction: fixes the routes of messages
 * seen for the first time (counting them `sent`), marks first times, then one upsert of
 * every touched slice in key order, so concurrent batches lock rows alike. Delivered,
 * bounced and complaint counts also go to the circuit breakers' window (`breaker_window`),
 * in the same transaction, so a redelivered event counts nowhere twice. Facts of messages
 * without a campaign row (transactional, erased, foreign) count nothing.
 */
export async function recordKpiFacts(tx: Queryable, facts: readonly KpiFact[]): Promise<void> {
  if (facts.length === 0) return;
  const routes = new Map<string, KpiFact>();
  for (const fact of facts) {
    if (fact.route !== undefined && !routes.has(key(fact.messageId))) {
      routes.set(key(fact.messageId), fact);
    }
  }
  const sentBy = new Set<KpiFact>();
  if (routes.size > 0) {
    const ordered = [...routes.entries()].sort(([a], [b]) => compare(a, b));
    const { rows } = await tx.query<{ message_id: string }>(FIX_ROUTES, [
      ordered.map(([id]) => id),
      ordered.map(([, f]) => f.tenantId),
      ordered.map(([, f]) => providerOf(f.route!.recipientDomain)),
      ordered.map(([, f]) => f.route!.pool),
    ]);
    for (const row of rows) sentBy.add(routes.get(key(row.message_id))!);
  }

  const marks = new Map<string, KpiFact>();
  for (const fact of facts) {
    for (const metric of fact.once) {
      const id = `${key(fact.messageId)} ${metric}`;
      if (!marks.has(id)) marks.set(id, fact);
    }
  }
  const firsts = new Map<KpiFact, KpiCount[]>();
  if (marks.size > 0) {
    const ordered = [...marks.entries()].sort(([a], [b]) => compare(a, b));
    const { rows } = await tx.query<{ message_id: string; metric: KpiCount }>(MARK, [
      ordered.map(([id]) => id.split(' ')[0]),
      ordered.map(([, f]) => f.tenantId),
      ordered.map(([id]) => id.split(' ')[1]),
    ]);
    for (const row of rows) {
      const fact = marks.get(`${key(row.message_id)} ${row.metric}`)!;
      const list = firsts.get(fact);
      if (list === undefined) firsts.set(fact, [row.metric]);
      else list.push(row.metric);
    }
  }

  const retractions = new Map<KpiFact, Date>();
  const retracting = [
    ...new Map(
      facts.filter((f) => f.retractsHumanClick).map((f) => [key(f.messageId), f] as const),
    ).values(),
  ];
  if (retracting.length > 0) {
    const { rows } = await tx.query<{ message_id: string; first_click: Date | string | null }>(
      RETRACT_HUMAN_CLICKS,
      [retracting.map((f) => f.messageId), retracting.map((f) => f.tenantId)],
    );
    for (const row of rows) {
      const fact = retracting.find((f) => key(f.messageId) === key(row.message_id))!;
      retractions.set(fact, row.first_click === null ? fact.occurredAt : new Date(row.first_click));
    }
  }

  const { rows } = await tx.query<{
    id: string;
    campaign_id: CampaignId;
    variant: string;
    domain: string;
    provider: string | null;
    pool: string | null;
  }>(SLICES, [facts.map((f) => f.messageId), facts.map((f) => f.tenantId)]);
  const slices = new Map<string, Slice>();
  for (const row of rows) {
    slices.set(key(row.id), {
      campaignId: row.campaign_id,
      variant: row.variant,
      // An engagement event before any delivery event: the domain still names the provider.
      provider: row.provider ?? providerOf(row.domain),
      pool: row.pool ?? 'unknown',
    });
  }

  const increments = new Map<string, Increment>();
  // The circuit breakers' window reads the same facts, at a finer time than the hour.
  const recent: BreakerIncrement[] = [];
  const entryOf = (fact: KpiFact, slice: Slice, at: Date): Increment => {
    const values = [
      fact.tenantId,
      slice.campaignId,
      slice.variant,
      slice.provider,
      slice.pool,
      hourOf(at).toISOString(),
      fact.shard,
    ];
    const id = values.join(' ');
    let entry = increments.get(id);
    if (entry === undefined) {
      entry = { values, counts: emptyTotals(), revenue: 0 };
      increments.set(id, entry);
    }
    return entry;
  };
  for (const fact of facts) {
    const slice = slices.get(key(fact.messageId));
    if (slice === undefined) continue;
    const retractedAt = retractions.get(fact);
    if (retractedAt !== undefined)
      entryOf(fact, slice, retractedAt).counts.clicks_human_unique -= 1;
    const counted = [...fact.always, ...(firsts.get(fact) ?? [])];
    if (sentBy.has(fact)) counted.push('sent');
    if (counted.length === 0 && !fact.revenue) continue;
    const entry = entryOf(fact, slice, fact.occurredAt);
    for (const metric of counted) entry.counts[metric] += 1;
    entry.revenue += fact.revenue ?? 0;
    const watched = counted.filter((metric): metric is BreakerCount =>
      (BREAKER_COUNTS as readonly string[]).includes(metric),
    );
    if (watched.length > 0) {
      const counts = Object.fromEntries(BREAKER_COUNTS.map((c) => [c, 0])) as Record<
        BreakerCount,
        number
      >;
      for (const metric of watched) counts[metric] += 1;
      recent.push({
        tenantId: fact.tenantId,
        campaignId: slice.campaignId,
        provider: slice.provider,
        pool: slice.pool,
        at: fact.occurredAt,
        shard: fact.shard,
        counts,
      });
    }
  }
  await recordBreakerCounts(tx, recent);
  if (increments.size === 0) return;
  const ordered = [...increments.entries()].sort(([a], [b]) => compare(a, b));
  const params: unknown[] = KEY_COLUMNS.map((_, i) => ordered.map(([, e]) => e.values[i]));
  for (const metric of KPI_COUNTS) params.push(ordered.map(([, e]) => e.counts[metric]));
  params.push(ordered.map(([, e]) => e.revenue.toFixed(4)));
  await tx.query(UPSERT, params);
}

/**
 * The KPI facts of the claimed delivery events of a batch (`live` indexes `events`, in
 * arrival order, `results` in the same order): what only a move counts is added for the
 * events that moved their message.
 */
export function outcomeKpiFacts(
  events: readonly OutcomeEvent[],
  live: readonly number[],
  results: readonly RecordResult[],
): KpiFact[] {
  return live.flatMap((index, i) => {
    const kpi = events[index]?.kpi;
    if (kpi === undefined) return [];
    if (results[i]?.kind !== 'moved') return [kpi.fact];
    return [{ ...kpi.fact, always: [...kpi.fact.always, ...kpi.onTransition] }];
  });
}

/** The KpiStore of relais' PostgreSQL data model (either store driver). */
export function createSqlKpiStore(store: Store): KpiStore {
  return {
    recordEvents: async (consumer, events) => {
      // The same envelope twice in one batch (a redelivery racing its original): the first
      // copy is the candidate, the others are duplicates whatever the claim says.
      const candidates = new Map<string, number>();
      events.forEach((event, index) => {
        const id = key(event.envelopeId);
        if (!candidates.has(id)) candidates.set(id, index);
      });
      const counted = events.map(() => false);
      if (candidates.size === 0) return counted;
      return store.transaction(async (tx) => {
        const ids = [...candidates.keys()].sort(compare);
        const claimed = await tx.query<{ envelope_id: string }>(CLAIM, [consumer, ids]);
        // Arrival order decides which event of a message is its first.
        const fresh = claimed.rows
          .map((row) => candidates.get(key(row.envelope_id))!)
          .sort((a, b) => a - b);
        await recordKpiFacts(
          tx,
          fresh.map((index) => events[index]!.fact),
        );
        for (const index of fresh) counted[index] = true;
        return counted;
      });
    },

    report: async (query) => {
      const dimensions = [...new Set(query.groupBy)];
      const select = dimensions.map((d) => `${DIMENSION_SQL[d]} AS ${d}`);
      const sums = KPI_METRICS.map((m) => `coalesce(sum(${m}), 0) AS ${m}`);
      const grouping =
        dimensions.length === 0
          ? ''
          : `GROUP BY ${dimensions.map((_, i) => i + 1).join(', ')} ORDER BY ${dimensions.map((_, i) => i + 1).join(', ')}`;
      const sql = `
SELECT ${[...select, ...sums].join(', ')}
FROM kpi_hourly
WHERE tenant_id = $1
  AND ($2::uuid IS NULL OR campaign_id = $2::uuid)
  AND ($3::timestamptz IS NULL OR hour >= $3::timestamptz)
  AND ($4::timestamptz IS NULL OR hour < $4::timestamptz)
${grouping}`;
      const { rows } = await store.query<Record<string, unknown>>(sql, [
        query.tenantId,
        query.campaignId ?? null,
        query.from?.toISOString() ?? null,
        query.to?.toISOString() ?? null,
      ]);
      return rows.map((row) => {
        const totals = emptyTotals();
        for (const metric of KPI_METRICS) totals[metric] = Number(row[metric] ?? 0);
        const dims: KpiRow['dimensions'] = {};
        for (const d of dimensions) {
          const value = row[d];
          if (d === 'hour' || d === 'day') dims[d] = new Date(value as string | Date);
          else if (d === 'campaign') dims.campaignId = value as CampaignId;
          else dims[DIMENSION_FIELD[d]] = value as string;
        }
        return { dimensions: dims, totals };
      });
    },
  };
}
