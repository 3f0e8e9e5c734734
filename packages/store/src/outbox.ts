import type { Envelope } from '@relais/domain';
import { isValidatedEnvelope, parseEnvelope, toRelaisError } from '@relais/domain';
import { counter, type Logger, type Registry } from '@relais/telemetry';
import type { Queryable, Store, Unlisten } from './port';

/** The channel the kernel migration's trigger notifies when outbox rows commit. */
export const OUTBOX_CHANNEL = 'relais_outbox';

const INSERT = `
INSERT INTO outbox (id, type, tenant_id, routing_key, envelope)
VALUES ($1, $2, $3, $4, $5::jsonb)`;

/**
 * Rows stay locked until the transaction ends, and SKIP LOCKED makes a concurrent relay
 * take the next rows instead of waiting: two relays never hold (or publish) the same row.
 */
const CLAIM_BATCH = `
SELECT id, routing_key, envelope
FROM outbox
WHERE published_at IS NULL AND failed_at IS NULL
ORDER BY created_at
LIMIT $1
FOR UPDATE SKIP LOCKED`;

const MARK_PUBLISHED = `UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])`;

const MARK_FAILED = `UPDATE outbox SET failed_at = now(), failure_reason = $2 WHERE id = $1`;

const PRUNE = `DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1::double precision / 1000)`;

export interface EnqueueOptions {
  /** Overrides the routing key the bus derives from the envelope type (e.g. an IP pool). */
  routingKey?: string | undefined;
}

/**
 * Records an envelope for publication in the caller's transaction, so the state change and
 * the event announcing it commit (or vanish) together. The envelope id is the row id:
 * enqueueing the same envelope twice is STORE_CONFLICT.
 */
export async function enqueueOutbox(
  tx: Queryable,
  envelope: Envelope,
  options: EnqueueOptions = {},
): Promise<void> {
  // Refused here, in the caller's transaction, rather than discovered by the relay later.
  if (!isValidatedEnvelope(envelope)) parseEnvelope(envelope);
  await tx.query(INSERT, [
    envelope.id,
    envelope.type,
    envelope.tenantId,
    options.routingKey ?? null,
    JSON.stringify(envelope),
  ]);
}

/**
 * Publishes a batch. Resolve only once the bus took responsibility for every envelope
 * (confirms); any rejection makes the whole batch retry later. `routingKeys[i]` is the
 * override enqueued with `envelopes[i]`, if any. A function taking only `envelopes` fits.
 */
export type OutboxPublish = (
  envelopes: Envelope[],
  routingKeys: ReadonlyArray<string | undefined>,
) => Promise<void>;

export interface OutboxRelayOptions {
  store: Store;
  publish: OutboxPublish;
  logger: Logger;
  /** Rows per transaction (default 500). */
  batchSize?: number | undefined;
  /** Idle wait between scans when no notification arrives (default 1000 ms). */
  pollIntervalMs?: number | undefined;
  /** Backoff after a failed batch: doubles from `initialMs` up to `maxMs` (default 200 ms → 30 s). */
  retryDelay?: { initialMs: number; maxMs: number } | undefined;
  /** Where `relais_outbox_*` counters are registered; none without it. */
  metrics?: Registry | undefined;
}

export interface OutboxRelay {
  /** Lets the batch in progress finish (publish and commit), then stops. */
  stop(): Promise<void>;
  /** Relays one batch now; resolves to the number of rows published (0 when none were free). */
  drainOnce(): Promise<number>;
}

interface OutboxRow {
  id: string;
  routing_key: string | null;
  envelope: Envelope;
}

/**
 * Starts relaying committed outbox rows to the bus until stopped. Delivery is exactly once
 * per row while relays live, at least once when one dies between publish and commit (its
 * locks vanish and another relay publishes the rows again; consumers dedupe by envelope
 * id). A failing publish rolls the batch back and retries with backoff: rows are never
 * dropped. Notifications wake it promptly; polling covers lost ones.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { store, publish, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const retryInitialMs = options.retryDelay?.initialMs ?? 200;
  const retryMaxMs = options.retryDelay?.maxMs ?? 30_000;

  const relayed =
    options.metrics &&
    counter(options.metrics, 'relais_outbox_relayed_total', 'Outbox rows published.');
  const setAside =
    options.metrics &&
    counter(options.metrics, 'relais_outbox_failed_total', 'Outbox rows set aside as invalid.');
  const batchFailures =
    options.metrics &&
    counter(options.metrics, 'relais_outbox_batch_failures_total', 'Outbox batches rolled back.');

  let stopping = false;
  let notified = false;
  let interrupt: (() => void) | undefined;

  function drainOnce(): Promise<number> {
    return store.transaction(async (tx) => {
      const { rows } = await tx.query<OutboxRow>(CLAIM_BATCH, [batchSize]);
      if (rows.length === 0) return 0;
      // A row the bus would refuse forever is set aside (with its reason) so the rows
      // behind it keep flowing; transient publish failures still roll the batch back.
      const valid: { row: OutboxRow; envelope: Envelope }[] = [];
      for (const row of rows) {
        try {
          valid.push({ row, envelope: parseEnvelope(row.envelope) });
        } catch (error) {
          const reason = toRelaisError(error, 'MESSAGE_INVALID').message.slice(0, 2000);
          await tx.query(MARK_FAILED, [row.id, reason]);
          setAside?.inc();
          logger.error(
            {
              'event.action': 'outbox.row.failed',
              'relais.envelope_id': row.id,
              'error.message': reason,
            },
            'outbox row set aside: its envelope does not validate',
          );
        }
      }
      if (valid.length > 0) {
        await publish(
          valid.map((v) => v.envelope),
          valid.map((v) => v.row.routing_key ?? undefined),
        );
        await tx.query(MARK_PUBLISHED, [valid.map((v) => v.row.id)]);
      }
      relayed?.inc(valid.length);
      return rows.length;
    });
  }

  /** Waits `ms`, cut short by stop() and, when `wakeOnNotify`, by a notification. */
  function pause(ms: number, wakeOnNotify: boolean): Promise<void> {
    if (stopping || (wakeOnNotify && notified)) {
      notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        interrupt = undefined;
        resolve();
      }
      interrupt = () => {
        if (stopping || wakeOnNotify) done();
      };
    });
  }

  function onNotify(): void {
    notified = true;
    interrupt?.();
  }

  async function run(): Promise<void> {
    let unlisten: Unlisten | undefined;
    try {
      unlisten = await store.listen(OUTBOX_CHANNEL, onNotify);
    } catch (error) {
      logger.warn(
        { err: error, 'event.action': 'outbox.listen.failed' },
        'outbox relay falls back to polling',
      );
    }
    let failures = 0;
    while (!stopping) {
      notified = false;
      let published: number;
      try {
        published = await drainOnce();
        failures = 0;
      } catch (error) {
        failures += 1;
        batchFailures?.inc();
        const delayMs = Math.min(retryInitialMs * 2 ** (failures - 1), retryMaxMs);
        const relaisError = toRelaisError(error, 'BUS_PUBLISH_FAILED');
        logger.warn(
          {
            err: relaisError,
            'event.action': 'outbox.batch.failed',
            'error.code': relaisError.code,
            failures,
            delayMs,
          },
          'outbox batch not relayed; retrying',
        );
        await pause(delayMs, false);
        continue;
      }
      // A full batch means more may be waiting: go again at once.
      if (published < batchSize) await pause(pollIntervalMs, true);
    }
    await unlisten?.().catch(() => undefined);
  }

  const running = run();
  return {
    drainOnce,
    async stop(): Promise<void> {
      stopping = true;
      interrupt?.();
      await running;
    },
  };
}

/** Deletes rows published more than `olderThanMs` ago; returns how many. */
export async function pruneOutbox(store: Queryable, olderThanMs: number): Promise<number> {
  const { rowCount } = await store.query(PRUNE, [olderThanMs]);
  return rowCount;
}
