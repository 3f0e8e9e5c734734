import type { CampaignId } from '@relais/domain';
import { resolveRecipients } from '@relais/segmentation';
import { compileSegment, parseSegmentRule } from '@relais/segments';
import type { Logger } from '@relais/telemetry';
import { measure, type Phase } from '../lib/phase';
import { startApi, type ImportReport } from './api';
import type { BenchDriver } from './drivers';

/** What the bench feeds every driver: the same generated file, rule and suppressions. */
export interface Workload {
  contacts: number;
  csv: () => AsyncIterable<string>;
  /** Addresses of generated contacts to suppress, and one whole domain. */
  suppressedAddresses: readonly string[];
  suppressedDomain: string;
  rule: unknown;
}

/** One timed step with the rows it handled and, on PostgreSQL, the server's CPU. */
export interface Step {
  rows: number;
  seconds: number;
  cpuSeconds: number;
  serverCpuSeconds: number | undefined;
  peakRssMb: number;
}

/** Everything one driver's run measured. */
export interface DriverResult {
  driver: BenchDriver['name'];
  import: Step;
  resolve: Step;
  rawCopy: Step;
  insertSelect: Step;
  report: ImportReport;
  /** Message rows by variant for rows to be sent, and by exclusion reason. */
  variants: Record<string, number>;
  excluded: Record<string, number>;
}

/** Measures `run`, which returns the rows it handled. */
async function step(driver: BenchDriver, run: () => Promise<number>): Promise<Step> {
  const serverBefore = driver.serverCpuSeconds();
  const phase: Phase<number> = await measure(run);
  const serverAfter = driver.serverCpuSeconds();
  return {
    rows: phase.value,
    seconds: phase.seconds,
    cpuSeconds: phase.cpuSeconds,
    serverCpuSeconds:
      serverBefore === undefined || serverAfter === undefined
        ? undefined
        : serverAfter - serverBefore,
    peakRssMb: phase.peakRssMb,
  };
}

/** Calls `fn` over `items` with at most `width` calls in flight. */
async function eachConcurrently<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/**
 * The user's path, on one driver: suppressions, the CSV streamed through the import
 * endpoint, segment, templates and an A/B marketing campaign created and launched through
 * the API, then the launch's recipient resolution (segment → message rows) timed alone.
 * Then the references on the same database: raw COPY of the same CSV, and a plain
 * INSERT … SELECT of the same segment's rows into an unindexed table.
 */
export async function runScenario(
  driver: BenchDriver,
  workload: Workload,
  logger: Logger,
  progress: (line: string) => void,
): Promise<DriverResult> {
  const { store } = driver;
  const api = await startApi(store, logger);
  try {
    await eachConcurrently(workload.suppressedAddresses, 8, (value) =>
      api.call('POST', '/suppressions', { kind: 'address', value, reason: 'complaint' }),
    );
    await api.call('POST', '/suppressions', {
      kind: 'domain',
      value: workload.suppressedDomain,
      reason: 'domain requested removal',
    });

    let report: ImportReport | undefined;
    const imported = await step(driver, async () => {
      report = await api.importCsv(workload.csv(), 'consentPurpose=marketing&consentSource=bench');
      return report.created;
    });
    if (report === undefined || report.created !== workload.contacts || report.rejected > 0) {
      throw new Error(`import did not create every contact: ${JSON.stringify(report)}`);
    }
    progress(`${driver.name}: import ${imported.seconds.toFixed(1)} s`);

    const segment = await api.call('POST', '/segments', { name: 'engaged', rules: workload.rule });
    const template = (name: string, subject: string) =>
      api.call('POST', '/templates', {
        name,
        subject,
        html: '<p>Hello {{ contact.first_name | default: "there" }}, our {{ contact.plan }} news.</p>',
        text: 'Hello {{ contact.first_name | default: "there" }}, our {{ contact.plan }} news.',
      });
    const a = await template('spring-a', 'Spring news, {{ contact.first_name }}');
    const b = await template('spring-b', 'What is new this spring');
    const campaign = await api.call('POST', '/campaigns', {
      name: 'Spring newsletter',
      messageClass: 'marketing',
      from: { email: 'news@bench.example', name: 'Bench' },
      segmentId: segment.id,
      variants: [
        { name: 'A', templateId: a.id, weight: 50 },
        { name: 'B', templateId: b.id, weight: 50 },
      ],
    });
    const launched = await api.call('POST', `/campaigns/${campaign.id}/launch`, {});
    if (launched.status !== 'launched') throw new Error(`launch: ${JSON.stringify(launched)}`);
    const campaignId = campaign.id as CampaignId;

    const resolved = await step(driver, async () => {
      const outcome = await resolveRecipients(store, api.tenantId, campaignId, new Date());
      if (outcome.kind !== 'resolved') throw new Error(`resolve: ${JSON.stringify(outcome)}`);
      return outcome.recipients;
    });
    progress(`${driver.name}: segment → message rows ${resolved.seconds.toFixed(1)} s`);

    const { rows: split } = await store.query<{
      variant: string;
      reason: string | null;
      n: number;
    }>(
      `SELECT variant, excluded_reason AS reason, count(*)::int AS n FROM messages
       WHERE campaign_id = $1 GROUP BY 1, 2`,
      [campaignId],
    );
    const variants: Record<string, number> = {};
    const excluded: Record<string, number> = {};
    for (const { variant, reason, n } of split) {
      if (reason === null) variants[variant] = (variants[variant] ?? 0) + n;
      else excluded[reason] = (excluded[reason] ?? 0) + n;
    }

    const segmentSql = compileSegment(parseSegmentRule(workload.rule), {
      alias: 'c',
      firstParam: 3,
      now: new Date(),
    });
    await store.exec(`CREATE TABLE ref_messages (
      id uuid, tenant_id uuid, campaign_id uuid, contact_id uuid,
      email text, domain text, variant text, state text)`);
    const insertSelect = await step(driver, async () => {
      const result = await store.query(
        `INSERT INTO ref_messages
           SELECT gen_random_uuid(), c.tenant_id, $2::uuid, c.id, c.email, c.domain, 'A', 'pending'
           FROM contacts c WHERE c.tenant_id = $1 AND (${segmentSql.sql})`,
        [api.tenantId, campaignId, ...segmentSql.params],
      );
      return result.rowCount;
    });
    progress(`${driver.name}: reference INSERT … SELECT ${insertSelect.seconds.toFixed(1)} s`);

    const raw = await driver.prepareRawCopy();
    let rawCopy: Step;
    try {
      rawCopy = await step(driver, () => raw.run(workload.csv()));
    } finally {
      await raw.close();
    }
    progress(`${driver.name}: reference raw COPY ${rawCopy.seconds.toFixed(1)} s`);

    return {
      driver: driver.name,
      import: imported,
      resolve: resolved,
      rawCopy,
      insertSelect,
      report,
      variants,
      excluded,
    };
  } finally {
    await api.close();
  }
}
