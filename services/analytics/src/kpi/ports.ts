import type { CampaignId, EnvelopeId, MessageId, TenantId } from '@relais/domain';
import type { KpiCount, KpiTotals } from './metrics';

/** What one event adds to its message's KPI slice, its rule resolved. */
export interface KpiFact {
  tenantId: TenantId;
  messageId: MessageId;
  /** The event's time: the hour it counts in. */
  occurredAt: Date;
  /** The `kpi_hourly` shard of the message. */
  shard: number;
  always: readonly KpiCount[];
  once: readonly KpiCount[];
  revenue?: number;
  route?: { recipientDomain: string; pool: string };
  /** See `KpiRule.retractsHumanClick`. */
  retractsHumanClick?: boolean;
}

/** An event the KPI recorder claims itself (the ones no delivery batch carries). */
export interface KpiEvent {
  envelopeId: EnvelopeId;
  fact: KpiFact;
}

/** The dimensions a KPI report may be grouped by. */
export const KPI_DIMENSIONS = ['campaign', 'variant', 'provider', 'pool', 'hour', 'day'] as const;

/** One of the dimensions above. */
export type KpiDimension = (typeof KPI_DIMENSIONS)[number];

/** Which slices a report sums, and how it groups them. */
export interface KpiQuery {
  tenantId: TenantId;
  campaignId?: CampaignId;
  groupBy: readonly KpiDimension[];
  /** Hours from this one on (inclusive). */
  from?: Date;
  /** Hours before this one (exclusive). */
  to?: Date;
}

/** One group of a report: the values of its dimensions, and its totals. */
export interface KpiRow {
  dimensions: Partial<{
    campaignId: CampaignId;
    variant: string;
    provider: string;
    pool: string;
    hour: Date;
    day: Date;
  }>;
  totals: KpiTotals;
}

/** Where KPI slices are recorded and read. */
export interface KpiStore {
  /**
   * Records events in ONE transaction with the claim of their envelope ids for `consumer`
   * (a claimed id counts nothing again). Says, in the order of `events`, which were counted
   * (false: already claimed).
   */
  recordEvents(consumer: string, events: readonly KpiEvent[]): Promise<boolean[]>;
  /** The summed slices of a tenant, grouped as asked, in dimension order. */
  report(query: KpiQuery): Promise<KpiRow[]>;
}

/** Where handlers hand engagement facts; resolves once committed. */
export interface KpiRecorder {
  record(event: KpiEvent): Promise<boolean>;
}
