import type { Queryable } from '@relais/store';
import type { PausedSlice } from '../domain/paused-slices';
import type { PauseStore } from '../ports';

// Reads the partial index of the pauses in force (migration 0010): a handful of rows.
const IN_FORCE = `
SELECT campaign_id, scope_provider, scope_pool FROM campaign_pauses
WHERE resumed_at IS NULL AND (scope_provider <> '' OR scope_pool <> '')`;

/** The paused slices in PostgreSQL (`campaign_pauses`, written by the campaign service). */
export function createPauseStore(db: Queryable): PauseStore {
  return {
    async load() {
      const { rows } = await db.query<{
        campaign_id: string;
        scope_provider: string;
        scope_pool: string;
      }>(IN_FORCE);
      return rows.map((row): PausedSlice => ({
        campaignId: row.campaign_id,
        provider: row.scope_provider,
        pool: row.scope_pool,
      }));
    },
  };
}
