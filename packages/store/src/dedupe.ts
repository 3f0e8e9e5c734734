import type { Queryable } from './port';

/**
 * What the bus's consumer runtime needs to skip envelopes a consumer already handled.
 * Structurally the bus package's `DedupeStore`, declared here so the store does not depend
 * on bus code.
 */
export interface DedupeStore {
  has(consumer: string, envelopeId: string): Promise<boolean>;
  add(consumer: string, envelopeId: string): Promise<void>;
}

const HAS = `SELECT 1 FROM inbox WHERE consumer = $1 AND envelope_id = $2`;
const ADD = `INSERT INTO inbox (consumer, envelope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`;
const CLAIM = `INSERT INTO inbox (consumer, envelope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`;

/** A DedupeStore on the kernel's `inbox` table; `add` is idempotent. */
export function createStoreDedupe(store: Queryable): DedupeStore {
  return {
    async has(consumer, envelopeId) {
      const { rows } = await store.query(HAS, [consumer, envelopeId]);
      return rows.length > 0;
    },
    async add(consumer, envelopeId) {
      await store.query(ADD, [consumer, envelopeId]);
    },
  };
}

/**
 * Records in the handler's own transaction that `consumer` handled the envelope; false
 * when it already had. Stronger than has/add around a handler: the effect and the record
 * commit together, so a crash in between cannot cause a second effect.
 */
export async function claimInbox(
  tx: Queryable,
  consumer: string,
  envelopeId: string,
): Promise<boolean> {
  const { rows } = await tx.query(CLAIM, [consumer, envelopeId]);
  return rows.length > 0;
}
