import { RelaisError } from '@relais/domain';
import type { Queryable } from '@relais/store';
import type { LearnedThrottle, ThrottleHistoryEntry } from '../domain/throttle-controller';
import type { ThrottleSnapshot, ThrottleStateStore } from '../ports';
import { throttleKey } from './send-scheduler';

/** States older than this are not loaded: what a receiver allowed a week ago says little. */
const MAX_STATE_AGE = '7 days';

interface Row {
  pool: string;
  site: string;
  rate_per_second: number;
  concurrency: number;
  backoff_until: Date | null;
  consecutive_cuts: number;
  history: unknown;
}

const LOAD = `
  SELECT pool, site, rate_per_second, concurrency, backoff_until, consecutive_cuts, history
    FROM relay_throttle_state
   WHERE updated_at > now() - interval '${MAX_STATE_AGE}'`;

// One statement for the whole flush: unnest the arrays into rows and upsert them.
const SAVE = `
  INSERT INTO relay_throttle_state AS s
         (pool, site, rate_per_second, concurrency, backoff_until, consecutive_cuts, history, updated_at)
  SELECT pool, site, rate, conc, CASE WHEN backoff_ms > 0 THEN to_timestamp(backoff_ms / 1000.0) END,
         cuts, history, now()
    FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::float8[], $6::int[], $7::jsonb[])
         AS t(pool, site, rate, conc, backoff_ms, cuts, history)
  ON CONFLICT (pool, site) DO UPDATE SET
         rate_per_second = EXCLUDED.rate_per_second,
         concurrency = EXCLUDED.concurrency,
         backoff_until = EXCLUDED.backoff_until,
         consecutive_cuts = EXCLUDED.consecutive_cuts,
         history = EXCLUDED.history,
         updated_at = EXCLUDED.updated_at`;

/** The controllers' states in PostgreSQL (`relay_throttle_state`, migration 0006 of the model). */
export function createThrottleStore(db: Queryable): ThrottleStateStore {
  return {
    async load() {
      const { rows } = await db.query<Row>(LOAD);
      const learned = new Map<string, LearnedThrottle>();
      for (const row of rows) {
        learned.set(throttleKey(row.pool, row.site), {
          ratePerSecond: Number(row.rate_per_second),
          concurrency: Number(row.concurrency),
          backoffUntilMs: row.backoff_until === null ? 0 : row.backoff_until.getTime(),
          consecutiveCuts: row.consecutive_cuts,
          history: Array.isArray(row.history) ? (row.history as ThrottleHistoryEntry[]) : [],
        });
      }
      return learned;
    },
    async save(snapshots: readonly ThrottleSnapshot[]) {
      if (snapshots.length === 0) return;
      try {
        await db.query(SAVE, [
          snapshots.map((s) => s.pool),
          snapshots.map((s) => s.site),
          snapshots.map((s) => s.ratePerSecond),
          snapshots.map((s) => s.concurrency),
          snapshots.map((s) => s.backoffUntilMs),
          snapshots.map((s) => s.consecutiveCuts),
          snapshots.map((s) => JSON.stringify(s.history)),
        ]);
      } catch (error) {
        throw new RelaisError('STORE_QUERY_FAILED', 'saving the throttle states failed', {
          cause: error,
          details: { sites: snapshots.length },
        });
      }
    },
  };
}
