import { RelaisError } from '@relais/domain';
import type { Queryable } from '@relais/store';
import type { WarmupCount, WarmupStore } from '../ports';

const DAY_MS = 86_400_000;

const LOAD = `SELECT source, sent FROM relay_source_warmup WHERE day = $1::date`;

// Adds, never overwrites: every replica writes only the sends it made since its last flush.
const ADD = `
  INSERT INTO relay_source_warmup AS w (source, day, sent, updated_at)
  SELECT source, day, sent, now()
    FROM unnest($1::text[], $2::date[], $3::int[]) AS t(source, day, sent)
  ON CONFLICT (source, day) DO UPDATE SET
         sent = w.sent + EXCLUDED.sent,
         updated_at = EXCLUDED.updated_at`;

/** `YYYY-MM-DD` of a UTC day number. */
function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Warm-up counts in PostgreSQL (`relay_source_warmup`, migration 0009 of the model). */
export function createWarmupStore(db: Queryable): WarmupStore {
  return {
    async load(day) {
      const { rows } = await db.query<{ source: string; sent: number }>(LOAD, [isoDay(day)]);
      return new Map(rows.map((row) => [row.source, Number(row.sent)]));
    },
    async add(counts: readonly WarmupCount[]) {
      if (counts.length === 0) return;
      try {
        await db.query(ADD, [
          counts.map((count) => count.source),
          counts.map((count) => isoDay(count.day)),
          counts.map((count) => count.sent),
        ]);
      } catch (error) {
        throw new RelaisError('STORE_QUERY_FAILED', 'saving the warm-up counts failed', {
          cause: error,
          details: { sources: counts.length },
        });
      }
    },
  };
}
