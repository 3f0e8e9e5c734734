import { createEnvelope, type CampaignId, type TenantId } from '@relais/domain';
import { enqueueOutbox, type Queryable, type Store } from '@relais/store';
import { campaignFigures } from '../domain/stats';
import type { Counter } from '../domain/outcomes';
import type { AnalyticsStore, CompletedCampaign, OutcomeEvent, RecordResult } from '../ports';
import { outcomeKpiFacts, recordKpiFacts } from './sql-kpi-store';

// Set-based statements: a batch of events costs the same few round trips as one event.
// Arrays travel as one parameter each and are unnested side by side (same length).

/** Claims envelope ids for a consumer; the ids that come back were not processed before. */
const CLAIM = `
INSERT INTO inbox (consumer, envelope_id)
SELECT $1, unnest($2::uuid[])
ON CONFLICT DO NOTHING
RETURNING envelope_id`;

/**
 * The guarded move of several messages (each at most once per statement): only from the
 * states the outcome allows, so a duplicate or a late event changes nothing and returns no
 * row. `final_at` keeps its first value; the tenant guard keeps another tenant's id inert.
 */
const MOVE_MESSAGES = `
UPDATE messages m
SET state = v.state, attempts = m.attempts + 1, last_reason = coalesce(v.reason, m.last_reason),
    final_at = CASE WHEN v.final THEN coalesce(m.final_at, now()) ELSE m.final_at END,
    updated_at = now()
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::boolean[])
  AS v(id, tenant_id, state, reason, final)
WHERE m.id = v.id AND m.tenant_id = v.tenant_id AND m.state = ANY($6::text[])
RETURNING m.id, m.campaign_id`;

const FIND_MESSAGES = `
SELECT m.id, m.tenant_id, m.campaign_id, m.state
FROM messages m
JOIN unnest($1::uuid[], $2::uuid[]) AS v(id, tenant_id)
  ON m.id = v.id AND m.tenant_id = v.tenant_id`;

// Submitted transactional mail has no campaign (migration 0005): its rows change state but
// count toward no campaign.
const INCREMENT = `
INSERT INTO campaign_counters (campaign_id, counter, shard, value)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::smallint[], $4::bigint[])
  AS v(campaign_id, counter, shard, value)
WHERE v.campaign_id IS NOT NULL
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

// uuid columns come back lowercase; envelopes may carry either case.
const key = (id: string): string => id.toLowerCase();

/** A message row as seen by the events of one batch. */
interface Found {
  campaignId: CampaignId;
  state: string;
}

/**
 * Applies already-claimed events in one transaction. Events of one message are applied in
 * successive statements in their order (round k holds the k-th event of each message), so
 * a deferral then a delivery of the same message in one batch ends delivered, exactly as
 * one by one. Events of different messages commute: each touches its own row, and
 * counters are sums.
 */
async function applyOutcomes(
  tx: Queryable,
  events: readonly OutcomeEvent[],
): Promise<RecordResult[]> {
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  events.forEach((event, index) => {
    const messageKey = key(event.outcome.messageId);
    const round = seen.get(messageKey) ?? 0;
    seen.set(messageKey, round + 1);
    (rounds[round] ??= []).push(index);
  });

  const moved = new Map<number, CampaignId>();
  for (const round of rounds) {
    // Outcomes share their `from` states today; grouping keeps that a property of the data.
    const byFrom = new Map<string, number[]>();
    for (const index of round) {
      const from = events[index]!.outcome.from.join(',');
      const group = byFrom.get(from);
      if (group === undefined) byFrom.set(from, [index]);
      else group.push(index);
    }
    for (const group of byFrom.values()) {
      // Rows in message id order, so concurrent batches tend to lock alike; a deadlock that
      // slips through aborts one batch, whose events the bus retries.
      group.sort((a, b) =>
        compare(key(events[a]!.outcome.messageId), key(events[b]!.outcome.messageId)),
      );
      const outcomes = group.map((index) => events[index]!);
      const { rows } = await tx.query<{ id: string; campaign_id: CampaignId }>(MOVE_MESSAGES, [
        outcomes.map((e) => e.outcome.messageId),
        outcomes.map((e) => e.tenantId),
        outcomes.map((e) => e.outcome.state),
        outcomes.map((e) => e.outcome.reason),
        outcomes.map((e) => e.outcome.final),
        outcomes[0]!.outcome.from,
      ]);
      const byMessage = new Map(
        group.map((index) => [key(events[index]!.outcome.messageId), index]),
      );
      for (const row of rows) {
        const index = byMessage.get(key(row.id));
        if (index !== undefined) moved.set(index, row.campaign_id);
      }
    }
  }

  // Events that moved nothing: a known message past this outcome, or an unknown one.
  const stale = events.flatMap((event, index) => (moved.has(index) ? [] : [event]));
  const found = new Map<string, Found>();
  if (stale.length > 0) {
    const { rows } = await tx.query<{
      id: string;
      tenant_id: string;
      campaign_id: CampaignId;
      state: string;
    }>(FIND_MESSAGES, [stale.map((e) => e.outcome.messageId), stale.map((e) => e.tenantId)]);
    for (const row of rows) {
      found.set(`${key(row.id)} ${key(row.tenant_id)}`, {
        campaignId: row.campaign_id,
        state: row.state,
      });
    }
  }

  const increments = new Map<
    string,
    { campaignId: CampaignId; counter: Counter; shard: number; value: number }
  >();
  const count = (campaignId: CampaignId, counter: Counter | null, shard: number): void => {
    if (counter === null) return;
    const id = `${campaignId} ${counter} ${shard}`;
    const entry = increments.get(id);
    if (entry === undefined) increments.set(id, { campaignId, counter, shard, value: 1 });
    else entry.value += 1;
  };
  const results = events.map((event, index): RecordResult => {
    const { outcome, shard } = event;
    const campaignId = moved.get(index);
    if (campaignId !== undefined) {
      count(campaignId, outcome.countOnTransition, shard);
      count(campaignId, outcome.countAlways, shard);
      return { kind: 'moved', campaignId };
    }
    const row = found.get(`${key(outcome.messageId)} ${key(event.tenantId)}`);
    if (row === undefined) return { kind: 'unknown' };
    count(row.campaignId, outcome.countAlways, shard);
    return { kind: 'ignored', campaignId: row.campaignId, state: row.state };
  });

  if (increments.size > 0) {
    // One upsert per batch; rows in key order so concurrent replicas lock them alike.
    const rows = [...increments.values()].sort(
      (a, b) =>
        compare(key(a.campaignId), key(b.campaignId)) ||
        compare(a.counter, b.counter) ||
        a.shard - b.shard,
    );
    await tx.query(INCREMENT, [
      rows.map((r) => r.campaignId),
      rows.map((r) => r.counter),
      rows.map((r) => r.shard),
      rows.map((r) => r.value),
    ]);
  }
  return results;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The AnalyticsStore of relais' PostgreSQL data model (either store driver). */
export function createSqlAnalyticsStore(store: Store): AnalyticsStore {
  return {
    recordOutcomes: async (consumer, events) => {
      const results: (RecordResult | undefined)[] = events.map(() => undefined);
      // The same envelope twice in one batch (a redelivery racing its original): the first
      // copy is the candidate, the others are duplicates whatever the claim says.
      const candidates = new Map<string, number>();
      events.forEach((event, index) => {
        const id = key(event.envelopeId);
        if (candidates.has(id)) results[index] = { kind: 'duplicate' };
        else candidates.set(id, index);
      });
      if (candidates.size === 0) return results as RecordResult[];
      return store.transaction(async (tx) => {
        const ids = [...candidates.keys()].sort(compare);
        const claimed = await tx.query<{ envelope_id: string }>(CLAIM, [consumer, ids]);
        const fresh = new Set(claimed.rows.map((row) => key(row.envelope_id)));
        const live: number[] = [];
        for (const [id, index] of candidates) {
          if (fresh.has(id)) live.push(index);
          else results[index] = { kind: 'duplicate' };
        }
        // Arrival order: the order of a message's events is what the rounds preserve.
        live.sort((a, b) => a - b);
        const applied = await applyOutcomes(
          tx,
          live.map((index) => events[index]!),
        );
        live.forEach((index, i) => (results[index] = applied[i]));
        // The KPI slices move in the same transaction: a redelivery counts nothing twice.
        await recordKpiFacts(tx, outcomeKpiFacts(events, live, applied));
        return results as RecordResult[];
      });
    },

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
