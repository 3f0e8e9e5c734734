import { createEnvelope, type CampaignId, type TenantId } from '@relais/domain';
import { enqueueOutbox, type Queryable, type Store } from '@relais/store';
import type { BreakerStore } from '../breaker-ports';
import type { SlicePause, WindowCounts } from '../domain/breakers';

/** The width of a `breaker_window` bucket: the window's resolution (migration 0011). */
export const BREAKER_BUCKET_MS = 5_000;

/** The counts of `breaker_window`, in column order. */
export const BREAKER_COUNTS = ['delivered', 'bounced_hard', 'bounced_soft', 'complaints'] as const;

/** One of the counts above. */
export type BreakerCount = (typeof BREAKER_COUNTS)[number];

/** What one batch adds to one row of the window. */
export interface BreakerIncrement {
  tenantId: TenantId;
  campaignId: CampaignId;
  provider: string;
  pool: string;
  at: Date;
  shard: number;
  counts: Record<BreakerCount, number>;
}

const KEY_COLUMNS = ['tenant_id', 'campaign_id', 'provider', 'pool', 'bucket', 'shard'];
const KEY_TYPES = ['uuid', 'uuid', 'text', 'text', 'timestamptz', 'smallint'];
const UPSERT = `
INSERT INTO breaker_window (${[...KEY_COLUMNS, ...BREAKER_COUNTS].join(', ')})
SELECT * FROM unnest(${[...KEY_TYPES, ...BREAKER_COUNTS.map(() => 'bigint')]
  .map((type, i) => `$${i + 1}::${type}[]`)
  .join(', ')})
ON CONFLICT (campaign_id, provider, pool, bucket, shard, tenant_id) DO UPDATE SET
${BREAKER_COUNTS.map((c) => `  ${c} = breaker_window.${c} + EXCLUDED.${c}`).join(',\n')}`;

// One replica sweeps at a time: the lock is the transaction's, so a crashed sweep frees it.
const TRY_LOCK = `SELECT pg_try_advisory_xact_lock(hashtext('relais.breakers:' || current_schema())) AS locked`;

// Only sending campaigns: a paused, cancelled or completed one has nothing left to protect.
const WINDOW = `
SELECT w.tenant_id, w.campaign_id, w.provider, w.pool, w.bucket,
  sum(w.delivered) AS delivered, sum(w.bounced_hard) AS bounced_hard,
  sum(w.bounced_soft) AS bounced_soft, sum(w.complaints) AS complaints
FROM breaker_window w
JOIN campaigns c ON c.id = w.campaign_id AND c.tenant_id = w.tenant_id AND c.status = 'sending'
WHERE w.bucket >= $1
GROUP BY w.tenant_id, w.campaign_id, w.provider, w.pool, w.bucket`;

const PAUSES = `
SELECT campaign_id, scope_provider, scope_pool, resumed_at FROM campaign_pauses
WHERE campaign_id = ANY ($1::uuid[]) AND (resumed_at IS NULL OR resumed_at >= $2)`;

const PRUNE = `DELETE FROM breaker_window WHERE bucket < $1`;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The bucket an instant falls in. */
export function bucketOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / BREAKER_BUCKET_MS) * BREAKER_BUCKET_MS);
}

/**
 * Adds increments to the window inside the caller's transaction (the one that claims the
 * events): one upsert, rows in key order so concurrent batches lock them alike.
 */
export async function recordBreakerCounts(
  tx: Queryable,
  increments: readonly BreakerIncrement[],
): Promise<void> {
  const rows = new Map<string, { values: (string | number)[]; counts: number[] }>();
  for (const increment of increments) {
    if (BREAKER_COUNTS.every((count) => increment.counts[count] === 0)) continue;
    const values = [
      increment.tenantId,
      increment.campaignId,
      increment.provider,
      increment.pool,
      bucketOf(increment.at).toISOString(),
      increment.shard,
    ];
    const id = values.join(' ');
    let row = rows.get(id);
    if (row === undefined) {
      row = { values, counts: BREAKER_COUNTS.map(() => 0) };
      rows.set(id, row);
    }
    BREAKER_COUNTS.forEach((count, i) => (row.counts[i]! += increment.counts[count]));
  }
  if (rows.size === 0) return;
  const ordered = [...rows.entries()].sort(([a], [b]) => compare(a, b)).map(([, row]) => row);
  const params: unknown[] = KEY_COLUMNS.map((_, i) => ordered.map((row) => row.values[i]));
  BREAKER_COUNTS.forEach((_, i) => params.push(ordered.map((row) => row.counts[i])));
  await tx.query(UPSERT, params);
}

/** The BreakerStore of relais' PostgreSQL data model (either store driver). */
export function createSqlBreakerStore(store: Store): BreakerStore {
  return {
    withSweepLock: (work) =>
      store.transaction(async (tx) => {
        const { rows } = await tx.query<{ locked: boolean }>(TRY_LOCK);
        if (rows[0]?.locked !== true) return undefined;
        return work({
          window: async (since) => {
            const result = await tx.query<{
              tenant_id: TenantId;
              campaign_id: CampaignId;
              provider: string;
              pool: string;
              bucket: Date | string;
              delivered: string | number;
              bounced_hard: string | number;
              bounced_soft: string | number;
              complaints: string | number;
            }>(WINDOW, [since.toISOString()]);
            return result.rows.map((row): WindowCounts => ({
              tenantId: row.tenant_id,
              campaignId: row.campaign_id,
              provider: row.provider,
              pool: row.pool,
              bucket: new Date(row.bucket),
              delivered: Number(row.delivered),
              bouncedHard: Number(row.bounced_hard),
              bouncedSoft: Number(row.bounced_soft),
              complaints: Number(row.complaints),
            }));
          },
          pauses: async (campaignIds, since) => {
            if (campaignIds.length === 0) return [];
            const result = await tx.query<{
              campaign_id: CampaignId;
              scope_provider: string;
              scope_pool: string;
              resumed_at: Date | string | null;
            }>(PAUSES, [campaignIds, since.toISOString()]);
            return result.rows.map((row): SlicePause => ({
              campaignId: row.campaign_id,
              provider: row.scope_provider,
              pool: row.scope_pool,
              resumedAt: row.resumed_at === null ? null : new Date(row.resumed_at),
            }));
          },
          requestPauses: async (trips) => {
            for (const trip of trips) {
              await enqueueOutbox(
                tx,
                createEnvelope({
                  type: 'campaign.pause',
                  tenantId: trip.tenantId,
                  data: {
                    campaignId: trip.campaignId,
                    scope: trip.scope,
                    metric: trip.metric,
                    reason: trip.reason,
                    evidence: { ...trip.evidence },
                  },
                }),
              );
            }
          },
          prune: async (before) => {
            const result = await tx.query(PRUNE, [before.toISOString()]);
            return result.rowCount;
          },
        });
      }),
  };
}
