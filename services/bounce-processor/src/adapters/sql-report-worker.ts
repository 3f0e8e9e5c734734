import type { ReportKind } from '@relais/bounces';
import type { MessageId, TenantId } from '@relais/domain';
import type { Queryable, Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';
import type { ReportResult } from '../handlers/on-inbound-report';
import type { BounceLogEvent } from '../log-events';
import type { InboundReport } from '../ports';

// Rows stay locked until the batch's transaction ends and SKIP LOCKED hands a concurrent
// worker (another replica) the next rows instead of making it wait: a report is processed
// by one worker at a time. `attempts` only grows when a whole batch rolled back.
const CLAIM = `
SELECT id, tenant_id, message_id, rcpt_to, mail_from, raw, received_at
FROM inbound_reports
WHERE processed_at IS NULL AND attempts < $2
ORDER BY received_at
LIMIT $1
FOR UPDATE SKIP LOCKED`;

const MARK = `
UPDATE inbound_reports
SET processed_at = now(), kind = $2, verdict = $3::jsonb, error = $4
WHERE id = $1`;

// After a batch rolled back: count the attempt, and give up on a report that reached the
// limit (processed, with the error), so one report that breaks every batch stops there.
const COUNT_FAILED_ATTEMPT = `
UPDATE inbound_reports
SET attempts = attempts + 1,
    processed_at = CASE WHEN attempts + 1 >= $2 THEN now() END,
    error = CASE WHEN attempts + 1 >= $2 THEN $3 END
WHERE id = ANY($1::uuid[]) AND processed_at IS NULL`;

interface ReportRow {
  id: string;
  tenant_id: TenantId | null;
  message_id: MessageId | null;
  rcpt_to: string;
  mail_from: string;
  raw: Uint8Array;
  received_at: Date;
}

/** How the report worker runs. */
export interface ReportWorkerOptions {
  store: Store;
  /** Acts on one report inside the batch's transaction. */
  handle: (report: InboundReport, tx: Queryable) => Promise<ReportResult>;
  logger: Logger;
  batchSize: number;
  pollIntervalMs: number;
  /** Batches a report may roll back with before it is given up. */
  maxAttempts: number;
}

/** A running report worker. */
export interface ReportWorker {
  /** Processes the pending reports now (or right after the batch in progress). */
  wake(): void;
  /** Processes pending reports until none is left; resolves with how many were processed. */
  drain(): Promise<number>;
  /** Stops polling and waits for the batch in progress. */
  stop(): Promise<void>;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 1000);
}

/**
 * Takes pending `inbound_reports` rows in batches, each batch in one transaction: claim
 * (FOR UPDATE SKIP LOCKED), act on each report, mark it processed with its kind and verdict.
 * Each report runs under a savepoint: one that fails is rolled back alone and marked
 * processed with its error instead of being retried forever. Woken by a poll interval and
 * by `wake` (the inbound listener, after each accepted message).
 */
export function createReportWorker(options: ReportWorkerOptions): ReportWorker {
  const { store, handle, logger, batchSize, maxAttempts } = options;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = false;

  const processRow = async (tx: Queryable, row: ReportRow): Promise<void> => {
    const report: InboundReport = {
      id: row.id,
      tenantId: row.tenant_id,
      messageId: row.message_id,
      rcptTo: row.rcpt_to,
      mailFrom: row.mail_from,
      raw: Buffer.from(row.raw),
      receivedAt: row.received_at,
    };
    await tx.query('SAVEPOINT relais_report');
    let result: ReportResult;
    try {
      result = await handle(report, tx);
      await tx.query('RELEASE SAVEPOINT relais_report');
    } catch (error) {
      await tx.query('ROLLBACK TO SAVEPOINT relais_report');
      logger.warn(
        {
          'event.action': 'report.failed' satisfies BounceLogEvent,
          err: error,
          relais: { report_id: row.id },
        },
        'inbound report failed; recorded with its error, not retried',
      );
      await tx.query(MARK, [row.id, null, null, errorText(error)]);
      return;
    }
    await tx.query(MARK, [row.id, result.kind satisfies ReportKind, result.verdict, null]);
  };

  const batch = async (): Promise<number> => {
    let claimed: string[] = [];
    try {
      return await store.transaction(async (tx) => {
        const { rows } = await tx.query<ReportRow>(CLAIM, [batchSize, maxAttempts]);
        claimed = rows.map((row) => row.id);
        for (const row of rows) await processRow(tx, row);
        return rows.length;
      });
    } catch (error) {
      logger.error(
        {
          'event.action': 'report.batch_failed' satisfies BounceLogEvent,
          err: error,
          relais: { reports: claimed.length },
        },
        'inbound report batch rolled back; its reports are retried',
      );
      if (claimed.length > 0) {
        await store
          .query(COUNT_FAILED_ATTEMPT, [claimed, maxAttempts, `gave up: ${errorText(error)}`])
          .catch(() => undefined);
      }
      return 0;
    }
  };

  const drainAll = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      again = false;
      const count = await batch();
      total += count;
      if (stopped || (count < batchSize && !again)) return total;
    }
  };

  const drain = (): Promise<number> => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = drainAll().finally(() => {
      running = undefined;
    });
    return running;
  };

  const wake = (): void => {
    if (stopped) return;
    void drain();
  };
  const timer = setInterval(wake, options.pollIntervalMs);
  timer.unref();
  logger.info(
    {
      'event.action': 'report.worker_started' satisfies BounceLogEvent,
      relais: { batch_size: batchSize, poll_interval_ms: options.pollIntervalMs },
    },
    'inbound report worker started',
  );

  return {
    wake,
    drain,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
