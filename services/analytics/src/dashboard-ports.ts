import type { CampaignId, TenantId } from '@relais/domain';
import type { CampaignFigures } from './domain/stats';
import type { KpiTotals } from './kpi/metrics';

/** A campaign as the dashboard lists it: its row, and the same figures as its stats. */
export interface DashboardCampaign extends CampaignFigures {
  campaignId: CampaignId;
  name: string;
  status: string;
  /** Why it is paused or cancelled, as the campaign service recorded it. */
  statusReason: string | null;
  createdAt: Date;
  launchedAt: Date | null;
  finishedAt: Date | null;
  /** Recipients still moving: pending, queued, sent or deferred. */
  inFlight: number;
}

/** One minute of the chart series (UTC minute start). */
export interface DashboardMinute {
  t: Date;
  /** Messages whose state became delivered in that minute. */
  delivered: number;
  /** Messages whose state became bounced in that minute. */
  bounced: number;
  /** Open events judged human (replays included). */
  humanOpens: number;
  /** Click events judged human (replays included). */
  humanClicks: number;
}

/** What the relay learned about one (IP pool × site): its current pace. */
export interface DashboardThrottle {
  pool: string;
  site: string;
  ratePerSecond: number;
  concurrency: number;
  /** Set while the site is backing off after throttling replies. */
  backoffUntil: Date | null;
  updatedAt: Date;
}

/** Outcomes of a mailbox provider over the health window, summed over the tenant's pools. */
export interface DashboardProvider {
  provider: string;
  totals: KpiTotals;
  /** The pools that carried this provider's mail in the window. */
  pools: string[];
}

/** A paused slice of a campaign still in force (`campaign_pauses.resumed_at` null). */
export interface DashboardPause {
  pauseId: string;
  campaignId: CampaignId;
  campaignName: string;
  /** '' means every provider. */
  provider: string;
  /** '' means every pool. */
  pool: string;
  source: string;
  metric: string | null;
  reason: string;
  evidence: Record<string, unknown>;
  pausedAt: Date;
}

/** Everything the dashboard page shows, read at one moment. */
export interface DashboardSnapshot {
  campaigns: DashboardCampaign[];
  /** The tenant's KPI totals over all time. */
  kpis: KpiTotals;
  /** Per minute over `seriesWindowMs` up to now, oldest first, empty minutes as zeros. */
  series: DashboardMinute[];
  healthSince: Date;
  providers: DashboardProvider[];
  /** Learned paces of the pools the tenant's mail used in the health window. */
  throttles: DashboardThrottle[];
  pauses: DashboardPause[];
}

/** What the snapshot covers. */
export interface DashboardQuery {
  tenantId: TenantId;
  now: Date;
  /** Newest campaigns listed (and whose deliveries the series counts). */
  campaignLimit: number;
  /** Length of the per-minute series. */
  seriesMinutes: number;
}

/** Where the dashboard's snapshot is read. */
export interface DashboardStore {
  snapshot(query: DashboardQuery): Promise<DashboardSnapshot>;
}
