import type { MessageData, MessageId, MessageType } from '@relais/domain';

/** The counts kept per KPI slice (`kpi_hourly` columns), in export order. */
export const KPI_COUNTS = [
  'sent',
  'delivered',
  'deferred',
  'bounced_hard',
  'bounced_soft',
  'expired',
  'complaints',
  'opens',
  'opens_unique',
  'opens_human_unique',
  'clicks',
  'clicks_unique',
  'clicks_human_unique',
  'unsubscribes',
  'conversions',
] as const;

/** One of the counts above. */
export type KpiCount = (typeof KPI_COUNTS)[number];

/** Every metric of a slice: the counts and the revenue (a sum of conversion amounts). */
export type KpiMetric = KpiCount | 'revenue';

/** Every metric name, in export order. */
export const KPI_METRICS: readonly KpiMetric[] = [...KPI_COUNTS, 'revenue'];

/** What one event adds to the KPI slice of its message. */
export interface KpiRule {
  messageId: MessageId;
  /** Counted for every event. */
  always: readonly KpiCount[];
  /** Counted by the first event of the message that names it (unique opens, clicks...). */
  once: readonly KpiCount[];
  /**
   * Counted only when the event moved the message's state: a late or repeated delivery
   * outcome must not count a second delivery.
   */
  onTransition: readonly KpiCount[];
  /**
   * A machine click may reveal that the message's earlier "human" click was a scanner's
   * (the tracking store re-marks a burst that walked every link): its human click mark is
   * then taken back, as the tracking figures do.
   */
  retractsHumanClick?: boolean;
  /** Added to `revenue`. */
  revenue?: number;
  /** When the fact happened, if the event says so apart from its envelope (conversions). */
  occurredAt?: string;
  /**
   * What a delivery event knows of its message and engagement events do not: the first one
   * fixes the message's provider and pool for all its later events and counts it `sent`.
   */
  route?: { recipientDomain: string; pool: string };
}

/** The event types the KPIs read. */
export type KpiEventType = keyof typeof KPI_RULES;

const none: readonly KpiCount[] = [];
const delivery = (data: MessageData<'delivery.delivered'>) => ({
  messageId: data.messageId,
  route: { recipientDomain: data.recipientDomain, pool: data.pool },
  always: none,
  once: none,
});

/**
 * The KPI rule of each event type: one row per type. `null` says the type is read and
 * counts nothing (a suppression names an address, not a message). A human open or click
 * also counts as an open or click; machine ones (privacy proxies, link scanners) never
 * count as human.
 */
export const KPI_RULES = {
  'delivery.delivered': (data) => ({ ...delivery(data), onTransition: ['delivered'] }),
  'delivery.deferred': (data) => ({ ...delivery(data), always: ['deferred'], onTransition: none }),
  'delivery.bounced': (data) => ({
    ...delivery(data),
    onTransition: [data.hard ? 'bounced_hard' : 'bounced_soft'],
  }),
  'delivery.expired': (data) => ({ ...delivery(data), onTransition: ['expired'] }),
  'complaint.received': (data) => ({
    messageId: data.messageId,
    always: none,
    once: ['complaints'],
    onTransition: none,
  }),
  'suppression.added': () => null,
  'engagement.opened': (data) => ({
    messageId: data.messageId,
    always: ['opens'],
    once: data.machine ? ['opens_unique'] : ['opens_unique', 'opens_human_unique'],
    onTransition: none,
  }),
  'engagement.clicked': (data) => ({
    messageId: data.messageId,
    always: ['clicks'],
    once: data.machine ? ['clicks_unique'] : ['clicks_unique', 'clicks_human_unique'],
    onTransition: none,
    ...(data.machine && { retractsHumanClick: true }),
  }),
  'engagement.unsubscribed': (data) => ({
    messageId: data.messageId,
    always: none,
    once: ['unsubscribes'],
    onTransition: none,
  }),
  // A conversion attributed to no message has no slice (variant, provider, pool) to land in.
  'engagement.converted': (data) =>
    data.messageId === undefined
      ? null
      : {
          messageId: data.messageId,
          always: ['conversions'],
          once: none,
          onTransition: none,
          revenue: data.amount,
          occurredAt: data.occurredAt,
        },
} satisfies { [T in MessageType]?: (data: MessageData<T>) => KpiRule | null };

/** The KPI rule of an event; undefined for a type the KPIs do not read. */
export function kpiRuleOf(type: MessageType, data: unknown): KpiRule | null | undefined {
  if (!Object.hasOwn(KPI_RULES, type)) return undefined;
  const rule = KPI_RULES[type as KpiEventType] as (data: unknown) => KpiRule | null;
  return rule(data);
}

/** The metrics of one slice (or of a sum of slices). */
export type KpiTotals = Record<KpiMetric, number>;

/** A slice with nothing counted. */
export function emptyTotals(): KpiTotals {
  return Object.fromEntries(KPI_METRICS.map((metric) => [metric, 0])) as KpiTotals;
}

/** The rates computed on read, each with the definition the API documents. */
export const KPI_RATES = {
  deliveryRate: 'delivered / sent',
  bounceRate: '(bounced_hard + bounced_soft) / sent',
  hardBounceRate: 'bounced_hard / sent',
  complaintRate: 'complaints / delivered',
  openRate: 'opens_unique / delivered (machine opens included)',
  humanOpenRate: 'opens_human_unique / delivered',
  clickRate: 'clicks_human_unique / delivered',
  clickToOpenRate: 'clicks_human_unique / opens_human_unique',
  unsubscribeRate: 'unsubscribes / delivered',
  conversionRate: 'conversions / delivered',
  revenuePerDelivered: 'revenue / delivered',
} as const;

/** One of the rates above. */
export type KpiRate = keyof typeof KPI_RATES;

const ratio = (numerator: number, denominator: number): number =>
  denominator > 0 ? numerator / denominator : 0;

/** The rates of some totals; a rate over nothing is 0. */
export function kpiRates(t: KpiTotals): Record<KpiRate, number> {
  return {
    deliveryRate: ratio(t.delivered, t.sent),
    bounceRate: ratio(t.bounced_hard + t.bounced_soft, t.sent),
    hardBounceRate: ratio(t.bounced_hard, t.sent),
    complaintRate: ratio(t.complaints, t.delivered),
    openRate: ratio(t.opens_unique, t.delivered),
    humanOpenRate: ratio(t.opens_human_unique, t.delivered),
    clickRate: ratio(t.clicks_human_unique, t.delivered),
    clickToOpenRate: ratio(t.clicks_human_unique, t.opens_human_unique),
    unsubscribeRate: ratio(t.unsubscribes, t.delivered),
    conversionRate: ratio(t.conversions, t.delivered),
    revenuePerDelivered: ratio(t.revenue, t.delivered),
  };
}
