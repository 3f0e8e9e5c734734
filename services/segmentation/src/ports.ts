import type { CampaignId, TenantId } from '@relais/domain';
import type { Logger } from '@relais/telemetry';

/** A segment rule compiled to a boolean SQL expression over the contacts alias it was given. */
export interface CompiledSegment {
  sql: string;
  /** Values for `$firstParam`, `$firstParam + 1`, … in `sql`. */
  params: unknown[];
}

/**
 * Turns a stored segment rule (`segments.rules`, untrusted JSON) into SQL, with the shape of
 * `@relais/segments`: parse, then compile. Throws a non-retryable RelaisError for a rule
 * that does not validate, so the launch is dead-lettered instead of retried forever.
 */
export type SegmentCompiler = (
  rules: unknown,
  options: { alias: string; firstParam: number; now: Date },
) => CompiledSegment;

/** What resolving a campaign's recipients found. */
export type ResolveOutcome =
  /** Recipient rows were written just now; the campaign is `sending`. */
  | { kind: 'resolved'; recipients: number }
  /** An earlier delivery already wrote them (a redelivered or duplicated launch). */
  | { kind: 'already-resolved' }
  /** The campaign is not `launched`/`sending` (cancelled or paused meanwhile): nothing to do. */
  | { kind: 'not-sendable'; status: string }
  /** No such campaign for this tenant (or it was deleted). */
  | { kind: 'not-found' };

/** What one dispatch step did. */
export type BatchOutcome =
  /** A batch of recipients was queued and its `dispatch.batch` enqueued in the outbox. */
  | { kind: 'dispatched'; batch: number; recipients: number }
  /** The campaign is no longer `sending` (paused, cancelled…); resume picks up from the cursor. */
  | { kind: 'stopped'; status: string }
  /** No pending recipient is left; `completed` when nobody was ever queued (all excluded). */
  | { kind: 'exhausted'; completed: boolean }
  /** No such campaign for this tenant. */
  | { kind: 'not-found' };

/**
 * The campaign data this service reads and writes. Each call is one transaction that locks
 * the campaign row first, so it serializes with pause/cancel in the campaign API and with a
 * concurrent copy of the same message.
 */
export interface RecipientStore {
  /** Writes one message row per segment member (excluded ones with their reason), once. */
  resolveRecipients(tenantId: TenantId, campaignId: CampaignId, now: Date): Promise<ResolveOutcome>;
  /** Queues the next `batchSize` pending recipients after the cursor and enqueues their batch. */
  dispatchNextBatch(
    tenantId: TenantId,
    campaignId: CampaignId,
    batchSize: number,
  ): Promise<BatchOutcome>;
}

/** Everything a segmentation handler needs. */
export interface SegmentationPorts {
  recipients: RecipientStore;
  /** Recipients per `dispatch.batch` message. */
  batchSize: number;
  /** The instant segment rules with relative dates ("30 days ago") are evaluated at. */
  now: () => Date;
  /** True once the process is shutting down: a long dispatch loop stops between batches. */
  stopping: () => boolean;
  logger: Logger;
}
