import type { CampaignId, TenantId } from '@relais/domain';

/**
 * Circuit breakers: which slices of a sending campaign (its mail to one mailbox provider, or
 * through one IP pool) must be paused because their hard-bounce or complaint rate over the
 * sliding window is above its threshold with statistical confidence. Pure: the sweep reads
 * the window and the pauses, this decides, the sweep sends the pause commands.
 */

/** What a breaker watches. */
export type BreakerMetric =
  /** Hard bounces over attempts that ended (delivered + hard + soft bounces). */
  | 'bounce_rate'
  /** Complaints (first per message) over delivered messages. */
  | 'complaint_rate';

/** One metric's rule. */
export interface BreakerRule {
  /** The rate a slice must stay under, e.g. 0.003 for 0.3 %. */
  threshold: number;
  /** Fewer observations (the rate's denominator) than this never trip. */
  minSample: number;
}

/** How the breakers decide. */
export interface BreakerSettings {
  windowMs: number;
  /**
   * A shorter window judged first (0: none). Over the long window alone a sudden change in
   * a campaign that has been sending for a while is diluted by the minutes before it: a
   * provider going from 2 % to 20 % hard bounces after 10 minutes at 5 messages/s shows
   * 3.6 % over 10 minutes one minute later, under a 5 % threshold. Over the last minute it
   * shows 20 %. The long window still catches slow slices whose last minute is too small a
   * sample.
   */
  fastWindowMs: number;
  /** One-sided confidence that the true rate is above the threshold, e.g. 0.95. */
  confidence: number;
  bounceRate: BreakerRule;
  complaintRate: BreakerRule;
  /** Whether IP-pool slices are watched besides provider slices. */
  pools: boolean;
}

/** The counts of one (campaign, provider, pool) in one bucket of the window. */
export interface WindowCounts {
  tenantId: TenantId;
  campaignId: CampaignId;
  provider: string;
  pool: string;
  /** Start of the bucket. */
  bucket: Date;
  delivered: number;
  bouncedHard: number;
  bouncedSoft: number;
  complaints: number;
}

/** A pause of a campaign slice, in force or resumed within the window. */
export interface SlicePause {
  campaignId: CampaignId;
  /** '' means any provider (a pool pause, or the whole campaign with `pool` '' too). */
  provider: string;
  /** '' means any pool. */
  pool: string;
  resumedAt: Date | null;
}

/** The part of a campaign a breaker pauses. */
export type SliceScope = { provider: string; pool?: never } | { pool: string; provider?: never };

/** The figures behind a trip, kept with the pause for the campaign view. */
export interface BreakerEvidence {
  metric: BreakerMetric;
  windowMs: number;
  /** The oldest bucket counted: the window's start or the slice's last resume. */
  since: string;
  /** The rate's denominator and numerator. */
  sample: number;
  events: number;
  rate: number;
  /** Lower bound of the one-sided Wilson score interval at `confidence`. */
  lowerBound: number;
  threshold: number;
  confidence: number;
  delivered: number;
  bouncedHard: number;
  bouncedSoft: number;
  complaints: number;
}

/** A slice to pause. */
export interface BreakerTrip {
  tenantId: TenantId;
  campaignId: CampaignId;
  scope: SliceScope;
  metric: BreakerMetric;
  reason: string;
  evidence: BreakerEvidence;
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative error under
 * 1.2e-9): the z of a one-sided confidence level, 1.645 for 0.95.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile of ${p}: expected 0 < p < 1`);
  const a = [-39.69683028665376, 220.9460984245205, -275.928510446969, 138.357751867269];
  const a4 = -30.66479806614716;
  const a5 = 2.506628277459239;
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972];
  const b4 = -13.28068155288572;
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734];
  const c4 = 4.374664141464968;
  const c5 = 2.938163982698783;
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c4) * q + c5) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < low) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - low) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a4) * r + a5) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b4) * r + 1)
  );
}

/**
 * Lower bound of the Wilson score interval of `events` successes in `sample` trials at
 * quantile `z`. Unlike the normal approximation it behaves at small samples and rates near
 * 0, which is where bounce and complaint rates live (Wilson 1927; Agresti & Coull 1998).
 */
export function wilsonLowerBound(events: number, sample: number, z: number): number {
  if (sample <= 0) return 0;
  const p = events / sample;
  const z2 = z * z;
  const centre = p + z2 / (2 * sample);
  const spread = z * Math.sqrt((p * (1 - p)) / sample + z2 / (4 * sample * sample));
  return Math.max(0, (centre - spread) / (1 + z2 / sample));
}

interface Totals {
  delivered: number;
  bouncedHard: number;
  bouncedSoft: number;
  complaints: number;
}

const empty = (): Totals => ({ delivered: 0, bouncedHard: 0, bouncedSoft: 0, complaints: 0 });

function add(into: Totals, row: Totals): void {
  into.delivered += row.delivered;
  into.bouncedHard += row.bouncedHard;
  into.bouncedSoft += row.bouncedSoft;
  into.complaints += row.complaints;
}

const percent = (rate: number): string => `${(rate * 100).toFixed(rate < 0.01 ? 2 : 1)} %`;

function minutes(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

/** The first metric of a slice's totals that trips, with its evidence. */
function judge(
  totals: Totals,
  since: Date,
  windowMs: number,
  settings: BreakerSettings,
): { metric: BreakerMetric; evidence: BreakerEvidence } | undefined {
  const z = normalQuantile(settings.confidence);
  const candidates: [BreakerMetric, BreakerRule, number, number][] = [
    [
      'bounce_rate',
      settings.bounceRate,
      totals.bouncedHard,
      totals.delivered + totals.bouncedHard + totals.bouncedSoft,
    ],
    ['complaint_rate', settings.complaintRate, totals.complaints, totals.delivered],
  ];
  for (const [metric, rule, events, sample] of candidates) {
    if (sample < rule.minSample || sample === 0) continue;
    const lowerBound = wilsonLowerBound(events, sample, z);
    if (lowerBound <= rule.threshold) continue;
    return {
      metric,
      evidence: {
        metric,
        windowMs,
        since: since.toISOString(),
        sample,
        events,
        rate: events / sample,
        lowerBound,
        threshold: rule.threshold,
        confidence: settings.confidence,
        ...totals,
      },
    };
  }
  return undefined;
}

/** The sentence the campaign view and the dashboard show. */
export function tripReason(scope: SliceScope, evidence: BreakerEvidence): string {
  const slice = scope.provider !== undefined ? `provider ${scope.provider}` : `pool ${scope.pool}`;
  const what =
    evidence.metric === 'bounce_rate'
      ? `hard-bounce rate ${percent(evidence.rate)} (${evidence.events} of ${evidence.sample} attempts)`
      : `complaint rate ${percent(evidence.rate)} (${evidence.events} of ${evidence.sample} delivered)`;
  return (
    `Paused automatically: ${slice} ${what} over the last ${minutes(evidence.windowMs)} ` +
    `is above the ${percent(evidence.threshold)} threshold ` +
    `(${Math.round(evidence.confidence * 100)} % lower bound ${percent(evidence.lowerBound)}).`
  ).slice(0, 500);
}

/**
 * The first window (the fast one, then the long one) whose outcomes of the rows `select`
 * picks trip a metric. `since`: nothing before it counts (the window's start, or a later
 * resume).
 */
function judgeWindows(
  rows: readonly WindowCounts[],
  select: (row: WindowCounts) => boolean,
  since: number,
  nowMs: number,
  settings: BreakerSettings,
): { metric: BreakerMetric; evidence: BreakerEvidence } | undefined {
  const windows = [settings.fastWindowMs, settings.windowMs].filter(
    (ms) => ms > 0 && ms <= settings.windowMs,
  );
  for (const windowMs of new Set(windows)) {
    const start = Math.max(since, nowMs - windowMs);
    const totals = empty();
    for (const row of rows) if (select(row) && row.bucket.getTime() >= start) add(totals, row);
    const verdict = judge(totals, new Date(start), windowMs, settings);
    if (verdict !== undefined) return verdict;
  }
  return undefined;
}

const sliceKey = (campaignId: string, provider: string, pool: string): string =>
  `${campaignId} ${provider} ${pool}`;

/**
 * The slices to pause now. A slice already paused is left alone. Only outcomes after the
 * latest resume of a pause overlapping the slice count, so a resumed slice starts with a
 * clean window instead of tripping again on the evidence that paused it. Provider slices
 * are judged first; a pool is then judged without the providers that are paused or trip in
 * this sweep, so one bad provider pauses itself, not the whole pool it shares with others.
 */
export function evaluateBreakers(input: {
  rows: readonly WindowCounts[];
  pauses: readonly SlicePause[];
  now: Date;
  settings: BreakerSettings;
}): BreakerTrip[] {
  const { settings } = input;
  const windowStart = input.now.getTime() - settings.windowMs;
  const byCampaign = new Map<string, WindowCounts[]>();
  for (const row of input.rows) {
    const list = byCampaign.get(row.campaignId);
    if (list === undefined) byCampaign.set(row.campaignId, [row]);
    else list.push(row);
  }
  const trips: BreakerTrip[] = [];
  for (const [campaignId, rows] of byCampaign) {
    const pauses = input.pauses.filter((pause) => pause.campaignId === campaignId);
    const active = new Set(
      pauses
        .filter((pause) => pause.resumedAt === null)
        .map((pause) => sliceKey(campaignId, pause.provider, pause.pool)),
    );
    const cutoff = (overlaps: (pause: SlicePause) => boolean): number =>
      pauses.reduce(
        (latest, pause) =>
          pause.resumedAt !== null && overlaps(pause)
            ? Math.max(latest, pause.resumedAt.getTime())
            : latest,
        windowStart,
      );
    const { tenantId } = rows[0]!;

    const pausedProviders = new Set(
      pauses.filter((p) => p.resumedAt === null && p.provider !== '').map((p) => p.provider),
    );
    for (const provider of new Set(rows.map((row) => row.provider))) {
      if (active.has(sliceKey(campaignId, provider, ''))) continue;
      const since = cutoff((pause) => pause.provider === '' || pause.provider === provider);
      const verdict = judgeWindows(
        rows,
        (row) => row.provider === provider,
        since,
        input.now.getTime(),
        settings,
      );
      if (verdict === undefined) continue;
      const scope: SliceScope = { provider };
      pausedProviders.add(provider);
      trips.push({
        tenantId,
        campaignId: campaignId as CampaignId,
        scope,
        ...verdict,
        reason: tripReason(scope, verdict.evidence),
      });
    }

    if (!settings.pools) continue;
    for (const pool of new Set(rows.map((row) => row.pool))) {
      if (active.has(sliceKey(campaignId, '', pool))) continue;
      const since = cutoff((pause) => pause.pool === '' || pause.pool === pool);
      const verdict = judgeWindows(
        rows,
        (row) => row.pool === pool && !pausedProviders.has(row.provider),
        since,
        input.now.getTime(),
        settings,
      );
      if (verdict === undefined) continue;
      const scope: SliceScope = { pool };
      trips.push({
        tenantId,
        campaignId: campaignId as CampaignId,
        scope,
        ...verdict,
        reason: tripReason(scope, verdict.evidence),
      });
    }
  }
  return trips;
}
