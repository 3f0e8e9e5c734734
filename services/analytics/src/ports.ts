import type { CampaignId, EnvelopeId, MessageId, TenantId } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import type { Outcome } from './domain/outcomes';
import type { CampaignFigures } from './domain/stats';
import type { KpiCount } from './kpi/metrics';
import type { KpiFact } from './kpi/ports';

/** What recording one delivery outcome did. */
export type RecordResult =
  /** The message moved to the outcome's state (and its counter, if any, was incremented). */
  | { kind: 'moved'; campaignId: CampaignId }
  /**
   * The message exists but was already past this outcome (final, or not yet dispatched):
   * a duplicate or late event. Counters that count every event were still incremented.
   */
  | { kind: 'ignored'; campaignId: CampaignId; state: string }
  /** No message with this id for this tenant (a transactional send, or another tenant's). */
  | { kind: 'unknown' }
  /** This consumer already processed the envelope (a redelivery): nothing was done. */
  | { kind: 'duplicate' };

/** One delivery event as the store records it. */
export interface OutcomeEvent {
  /** Claimed in the `inbox` table in the same transaction: a redelivery does nothing. */
  envelopeId: EnvelopeId;
  tenantId: TenantId;
  outcome: Outcome;
  /** The `campaign_counters` shard its increments go to. */
  shard: number;
  /**
   * What the event adds to its KPI slice; `onTransition` counts only when the message moved.
   * Absent: the event counts toward no KPI.
   */
  kpi?: { fact: KpiFact; onTransition: readonly KpiCount[] };
}

/** Where a handler hands its delivery event; resolves once the event is committed. */
export interface OutcomeRecorder {
  record(event: OutcomeEvent): Promise<RecordResult>;
}

/** A campaign the completion sweep marked completed. */
export interface CompletedCampaign {
  tenantId: TenantId;
  campaignId: CampaignId;
}

/** A campaign's stats as the API returns them. */
export interface CampaignStats extends CampaignFigures {
  campaignId: CampaignId;
  status: string;
  finishedAt: Date | null;
}

/**
 * The data this service reads and writes. Every write is one transaction; none holds a
 * lock across calls.
 */
export interface AnalyticsStore {
  /**
   * Records a batch of delivery events in ONE transaction: claims their envelope ids for
   * `consumer` in `inbox` (already claimed → `duplicate`), applies each outcome to its
   * message row guarded on the states it may come from — events of one message in the
   * order given, so the result equals applying them one by one — and increments the
   * campaign counters. Results are in the order of `events`. Throws (and commits nothing)
   * when the transaction fails.
   */
  recordOutcomes(consumer: string, events: readonly OutcomeEvent[]): Promise<RecordResult[]>;
  /**
   * Completes every `sending` campaign whose recipients are resolved and none of whose
   * messages is still in flight, each in one transaction with its `campaign.completed`
   * in the outbox. Guarded on the status, so concurrent sweeps complete a campaign once.
   */
  completeFinishedCampaigns(): Promise<CompletedCampaign[]>;
  /** The stats of a campaign of this tenant; undefined for an unknown or foreign id. */
  campaignStats(tenantId: TenantId, campaignId: CampaignId): Promise<CampaignStats | undefined>;
}

/** Everything an analytics handler needs. */
export interface AnalyticsPorts {
  store: AnalyticsStore;
  /** The micro-batcher delivery events go through. */
  outcomes: OutcomeRecorder;
  /** Rows each campaign counter is split over. */
  counterShards: number;
  logger: Logger;
}

/** What a one-click unsubscribe did. */
export type UnsubscribeResult =
  /** The contact was active and is now unsubscribed (ledger row and event written). */
  | { kind: 'unsubscribed' }
  /** Already unsubscribed: nothing written, the answer is the same. */
  | { kind: 'already' }
  /** The token was ours but its message row is gone (erased contact). */
  | { kind: 'unknown' };

/** Where one-click unsubscribes are recorded. */
export interface UnsubscribeStore {
  unsubscribe(messageId: MessageId, at: Date, ip: string | undefined): Promise<UnsubscribeResult>;
}
