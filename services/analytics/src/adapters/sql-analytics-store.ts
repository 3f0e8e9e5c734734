import { createEnvelope, type CampaignId, type TenantId } from '@relais/domain';
import { enqueueOutbox, type Queryable, type Store } from '@relais/store';
import { campaignFigures } from '../domain/stats';
import type { Counter, Outcome } from '../domain/outcomes';
import type { AnalyticsStore, CompletedCampaign, RecordResult } from '../ports';

/**
 * The guarded move: only from the states the outcome allows, so a duplicate or a late
 * event changes nothing and returns no row. `final_at` keeps its first value.
 */
const MOVE_MESSAGE = `
UPDATE messages
SET state = $3, attempts = attempts + 1, last_reason = coalesce($4, last_reason),
    final_at = CASE WHEN $5::boolean THEN coalesce(final_at, now()) ELSE final_at END,
    updated_at = now()
WHERE id = $1 AND tenant_id = $2 AND state = ANY($6::text[])
RETURNING campaign_id`;

const FIND_MESSAGE = `SELECT campaign_id, state FROM messages WHERE id = $1 AND tenant_id = $2`;

const INCREMENT = `
INSERT INTO campaign_counters (campaign_id, counter, shard, value)
VALUES ($1, $2, $3, 1)
ON CONFLICT (campaign_id, counter, shard)
DO UPDATE SET value = campaign_counters.value + EXCLUDED.value`;

// Reads only the partial index `messages_in_flight`, which holds the mail still moving.
const NOTHING_IN_FLIGHT = `
NOT EXISTS (
  SELECT 1 FROM messages m
  WHERE m.campaign_id = c.id AND m.state IN ('pending', 'queued', 'sent', 'deferred')
)`;

const FINISHED_CAMPAIGNS = `
SELECT c.id, c.tenant_id FROM campaigns c
WHERE c.status = 'sending' AND c.recipients_resolved_at IS NOT NULL AND ${NOTHING_IN_FLIGHT}`;

// Re-checked under the row lock: a pause or cancel that committed meanwhile wins.
const MARK_COMPLETED = `
UPDATE campaigns c
SET status = 'completed', finished_at = now(), updated_at = now()
WHERE c.id = $1 AND c.status = 'sending' AND ${NOTHING_IN_FLIGHT}
RETURNING c.tenant_id`;

const CAMPAIGN = `
SELECT status, finished_at FROM campaigns WHERE id = $1 AND tenant_id = $2`;

// Counts come back as text (int8) on both drivers; converted below.
const STATE_COUNTS = `
SELECT state, count(*) AS count FROM messages WHERE campaign_id = $1 GROUP BY state`;

const COUNTER_SUMS = `
SELECT counter, sum(value) AS value FROM campaign_counters WHERE campaign_id = $1 GROUP BY counter`;

async function increment(
  tx: Queryable,
  campaignId: CampaignId,
  counter: Counter | null,
  shard: number,
): Promise<void> {
  if (counter !== null) await tx.query(INCREMENT, [campaignId, counter, shard]);
}

/** The AnalyticsStore of relais' PostgreSQL data model (either store driver). */
export function createSqlAnalyticsStore(store: Store): AnalyticsStore {
  return {
    recordOutcome: (tenantId, outcome: Outcome, shard) =>
      store.transaction(async (tx): Promise<RecordResult> => {
        const moved = await tx.query<{ campaign_id: CampaignId }>(MOVE_MESSAGE, [
          outcome.messageId,
          tenantId,
          outcome.state,
          outcome.reason,
          outcome.final,
          outcome.from,
        ]);
        const campaignId = moved.rows[0]?.campaign_id;
        if (campaignId !== undefined) {
          await increment(tx, campaignId, outcome.countOnTransition, shard);
          await increment(tx, campaignId, outcome.countAlways, shard);
          return { kind: 'moved', campaignId };
        }
        const found = await tx.query<{ campaign_id: CampaignId; state: string }>(FIND_MESSAGE, [
          outcome.messageId,
          tenantId,
        ]);
        const row = found.rows[0];
        if (row === undefined) return { kind: 'unknown' };
        await increment(tx, row.campaign_id, outcome.countAlways, shard);
        return { kind: 'ignored', campaignId: row.campaign_id, state: row.state };
      }),

    completeFinishedCampaigns: async () => {
      const { rows } = await store.query<{ id: CampaignId }>(FINISHED_CAMPAIGNS);
      const completed: CompletedCampaign[] = [];
      for (const { id: campaignId } of rows) {
        const done = await store.transaction(async (tx) => {
          const marked = await tx.query<{ tenant_id: TenantId }>(MARK_COMPLETED, [campaignId]);
          const tenantId = marked.rows[0]?.tenant_id;
          if (tenantId === undefined) return undefined;
          await enqueueOutbox(
            tx,
            createEnvelope({ type: 'campaign.completed', tenantId, data: { campaignId } }),
          );
          return { tenantId, campaignId };
        });
        if (done !== undefined) completed.push(done);
      }
      return completed;
    },

    campaignStats: async (tenantId, campaignId) => {
      const campaign = await store.query<{ status: string; finished_at: Date | null }>(CAMPAIGN, [
        campaignId,
        tenantId,
      ]);
      const row = campaign.rows[0];
      if (row === undefined) return undefined;
      const states = await store.query<{ state: string; count: string | number }>(STATE_COUNTS, [
        campaignId,
      ]);
      const counters = await store.query<{ counter: string; value: string | number }>(
        COUNTER_SUMS,
        [campaignId],
      );
      const figures = campaignFigures({
        stateCounts: states.rows.map((r) => ({ state: r.state, count: Number(r.count) })),
        counterSums: counters.rows.map((r) => ({ counter: r.counter, value: Number(r.value) })),
      });
      return { campaignId, status: row.status, finishedAt: row.finished_at, ...figures };
    },
  };
}
