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

const HAS_MANY = `SELECT envelope_id::text AS id FROM inbox WHERE consumer = $1 AND envelope_id = ANY($2::uuid[])`;
const ADD_MANY = `INSERT INTO inbox (consumer, envelope_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`;
const CLAIM = `INSERT INTO inbox (consumer, envelope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`;

/** Ids per statement at most; a batch beyond it is split. */
const MAX_BATCH = 500;

interface Waiter {
  id: string;
  resolve: (found: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the calls made in one turn of the event loop into one statement per consumer.
 * A consumer with a prefetch of dozens starts its deliveries from one socket read, so
 * their `has` checks (and, as handlers finish, their `add`s) arrive together: one round
 * trip then answers them all, where each used to cost its own (measured: the relay spent
 * a sixth of its CPU writing single dedupe queries to PostgreSQL). Each caller still
 * resolves only once its own answer is durable; a failed statement rejects every caller
 * in it, as the single query would have.
 */
function batched(
  run: (consumer: string, ids: string[]) => Promise<ReadonlySet<string>>,
): (consumer: string, id: string) => Promise<boolean> {
  const pending = new Map<string, Waiter[]>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const [consumer, waiters] of pending) {
      pending.delete(consumer);
      for (let start = 0; start < waiters.length; start += MAX_BATCH) {
        const chunk = waiters.slice(start, start + MAX_BATCH);
        // uuid columns come back lowercase: compare in that form.
        const ids = [...new Set(chunk.map((waiter) => waiter.id.toLowerCase()))];
        run(consumer, ids).then(
          (found) => {
            for (const waiter of chunk) waiter.resolve(found.has(waiter.id.toLowerCase()));
          },
          (error: unknown) => {
            for (const waiter of chunk) waiter.reject(error);
          },
        );
      }
    }
  };
  return (consumer, id) =>
    new Promise<boolean>((resolve, reject) => {
      const waiters = pending.get(consumer);
      if (waiters === undefined) pending.set(consumer, [{ id, resolve, reject }]);
      else waiters.push({ id, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

/**
 * A DedupeStore on the kernel's `inbox` table; `add` is idempotent. Calls made together
 * share one statement (see `batched`). Envelope ids are UUIDs, as the envelope schema
 * requires.
 */
export function createStoreDedupe(store: Queryable): DedupeStore {
  const none: ReadonlySet<string> = new Set();
  const has = batched(async (consumer, ids) => {
    const { rows } = await store.query<{ id: string }>(HAS_MANY, [consumer, ids]);
    return new Set(rows.map((row) => row.id));
  });
  const add = batched(async (consumer, ids) => {
    await store.query(ADD_MANY, [consumer, ids]);
    return none;
  });
  return {
    has,
    async add(consumer, envelopeId) {
      await add(consumer, envelopeId);
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
