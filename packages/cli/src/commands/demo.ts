import { parseArgs } from 'node:util';
import { createTenant } from '@relais/campaign';
import { loadConfig } from '@relais/config';
import { startPlatform, type Platform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import type { CliLogEvent } from '../log-events';
import { startServicesWithSimulator } from './embedded-simulator';
import { platformConfigSchema, prepareServices } from './services';

/** Where the demo's contacts live: the simulator's providers, in these shares. */
const PROVIDER_SHARES: readonly (readonly [string, number])[] = [
  ['gmail.test', 0.35],
  ['outlook.test', 0.2],
  ['yahoo.test', 0.18],
  ['orange.test', 0.17],
  ['strict.test', 0.1],
];

/** States after which nothing more happens to a recipient. */
const IN_FLIGHT = ['pending', 'queued', 'sent', 'deferred'] as const;

/** The relay's retry delays in a demo, by deferral class (each list's last entry repeats). */
export const DEMO_DEFERRAL_DELAYS: Readonly<Record<string, string>> = {
  RELAY__DEFERRAL_DELAYS__GREYLISTING: '1s,5s',
  RELAY__DEFERRAL_DELAYS__OTHER: '1s,5s,30s',
  RELAY__DEFERRAL_DELAYS__NO_CONNECTION: '1s,5s,30s',
  RELAY__DEFERRAL_DELAYS__MAILBOX_FULL: '30s',
};

/** The demo's result; `--json` prints it as the last line of stdout. */
export interface DemoSummary {
  recipients: number;
  delivered: number;
  bounced: number;
  /** Failed to render or to deliver in time (expired). */
  failed: number;
  /** Excluded at launch: suppressed address, unsubscribed or no consent. */
  suppressed: number;
  durationMs: number;
  /** Recipients that reached delivered, bounced or failed, per second of the campaign. */
  messagesPerSecond: number;
  simulatorAccepted: number;
  /** Accepted messages whose RSA and Ed25519 signatures both verified. */
  dkimBothPassed: number;
  deferrals: number;
  checks: { totalsAddUp: boolean; acceptedIsDelivered: boolean; everyAcceptedDkimPassed: boolean };
}

interface CampaignView {
  status: string;
  recipientsResolvedAt: string | null;
  counts: Record<string, number> & { total: number };
}

/** Deterministic demo contacts: the i-th address and whether it is opted out or suppressed. */
export function demoContact(i: number, total: number): { email: string; firstName: string } {
  let share = (i + 0.5) / total;
  let domain = PROVIDER_SHARES[0]![0];
  for (const [name, weight] of PROVIDER_SHARES) {
    domain = name;
    if (share < weight) break;
    share -= weight;
  }
  // The strict provider refuses `former-*` mailboxes: a tenth of its contacts hard-bounce.
  const local = domain === 'strict.test' && i % 10 === 0 ? `former-${i}` : `reader${i}`;
  return { email: `${local}@${domain}`, firstName: `Reader${i}` };
}

/**
 * `relais demo` (`npm start`): the main job end to end on one machine. Starts the platform
 * (embedded unless AMQP_URL and DATABASE_URL are set) with the provider simulator as the
 * only destination, seeds a tenant, launches a campaign through the HTTP API, shows progress
 * until every recipient is final and prints a summary whose totals it checks. The web
 * dashboard's URL, with the demo tenant's key in its fragment, is printed at the start; the
 * platform keeps serving it after the summary until Ctrl-C, unless `--exit`.
 */
export async function demo(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      recipients: { type: 'string', default: '2000' },
      exit: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
    },
  });
  const recipients = Number(values.recipients);
  if (!Number.isInteger(recipients) || recipients < 1 || recipients > 1_000_000) {
    process.stderr.write('relais demo: --recipients expects a whole number from 1 to 1000000\n');
    process.exit(2);
  }
  // A demo is throwaway: unless told otherwise, keep its database in memory and its logs
  // to errors (a deferral is routine here), so the progress lines are what the terminal shows.
  const env = {
    ...process.env,
    DATA_DIR: process.env['DATA_DIR'] ?? 'memory://',
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'error',
    // The demo providers answer each command after 5-50 ms, so one connection carries only
    // 15-30 messages/s; they admit 20 connections per client, so use them.
    RELAY__MAX_CONNECTIONS_PER_DESTINATION:
      process.env['RELAY__MAX_CONNECTIONS_PER_DESTINATION'] ?? '20',
    // A demo compresses time: its providers greylist for half a second and fail at random
    // only for the moment, so the real schedules (minutes to hours, RFC 5321 §4.5.4.1) would
    // only make the campaign wait. Every deferral path still runs, just seconds apart.
    ...Object.fromEntries(
      Object.entries(DEMO_DEFERRAL_DELAYS).map(([name, value]) => [
        name,
        process.env[name] ?? value,
      ]),
    ),
  };
  const say = (line: string) => process.stderr.write(`${line}\n`);
  await runMain(
    async () => {
      const config = loadConfig(platformConfigSchema(), { env, argv: [] });
      const prepared = prepareServices(config);
      const platform = await startPlatform('relais', config);
      // The simulator's later bounces and complaints come back to our own inbound listener.
      const { embedded } = await startServicesWithSimulator(platform, config, prepared, {
        routesOnly: true,
      });
      let accepted = 0;
      let dkimBothPassed = 0;
      embedded.simulator.subscribe((event) => {
        if (event.type !== 'message.accepted') return;
        accepted += 1;
        const passed = new Set(
          event.message.dkim.filter((c) => c.result === 'pass').map((c) => c.algorithm),
        );
        if (passed.has('rsa-sha256') && passed.has('ed25519-sha256')) dkimBothPassed += 1;
      });
      const { port } = await platform.runtime.start();
      const base = `http://127.0.0.1:${port}`;
      say(`relais demo: platform up (${platform.mode}) at ${base}; seeding ${recipients} contacts`);
      const { apiKey } = await createTenant(platform.store, 'demo');
      // The key rides in the fragment, which the browser never sends: the page reads it.
      const dashboard = `${base}/dashboard#key=${apiKey.key}`;
      say(`relais demo: watch it live at ${dashboard}`);
      const campaignId = await seedDemoCampaign(base, apiKey.key, recipients);
      const startedAt = Date.now();
      const deadline = startedAt + Number(values.timeout) * 1000;
      const view = await followCampaign(platform, base, campaignId, deadline, say);
      const durationMs = Date.now() - startedAt;
      const summary = summarize(view, durationMs, {
        accepted,
        dkimBothPassed,
        deferrals: await countDeferrals(platform, campaignId),
      });
      platform.logger.info(
        { 'event.action': 'relais.demo.finished' satisfies CliLogEvent, relais: { ...summary } },
        'demo campaign finished',
      );
      printSummary(summary, say);
      if (values.exit) {
        await platform.runtime.stop('demo finished');
        finish(summary, values.json);
      } else {
        if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        say(`relais demo: still serving at ${base}, dashboard ${dashboard} (Ctrl-C to stop)`);
      }
      return platform.runtime;
    },
    { service: 'relais' },
  );
  // runMain returns at once after a start; an --exit run has already left by now.
}

function finish(summary: DemoSummary, json: boolean): never {
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  const ok = Object.values(summary.checks).every(Boolean);
  process.exit(ok ? 0 : 1);
}

/**
 * Seeds the demo audience through the HTTP API at `base` with the tenant key `apiKey`,
 * then creates and launches the campaign; resolves with its id. The distributed
 * integration test runs the same seed against six processes.
 */
export async function seedDemoCampaign(
  base: string,
  apiKey: string,
  total: number,
): Promise<string> {
  const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const response = await fetch(`${base}/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': type },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const payload = (await response.json()) as Record<string, unknown>;
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(payload)}`);
    }
    return payload;
  };
  const lines = ['email,first_name'];
  for (let i = 0; i < total; i += 1) {
    const contact = demoContact(i, total);
    lines.push(`${contact.email},${contact.firstName}`);
  }
  await call(
    'POST',
    '/contacts/imports?consentPurpose=marketing&consentSource=relais-demo',
    lines.join('\n'),
    'text/csv',
  );
  // A few readers opted out and a few addresses are already on the suppression list: the
  // launch excludes them and the summary counts them as suppressed.
  for (let i = 3; i < total; i += 100) {
    await call('POST', '/contacts', { email: demoContact(i, total).email, status: 'unsubscribed' });
  }
  for (let i = 57; i < total; i += 150) {
    const { email } = demoContact(i, total);
    await call('POST', '/suppressions', { kind: 'address', value: email, reason: 'demo' });
  }
  const segment = await call('POST', '/segments', { name: 'everyone', rules: { all: true } });
  const template = await call('POST', '/templates', {
    name: 'Welcome',
    subject: 'Hello {{ first_name | default: "reader" }}, this is relais',
    html: '<p>Hello {{ first_name | default: "reader" }},</p><p>This message was rendered, signed twice (RSA and Ed25519) and relayed by relais.</p>',
    text: 'Hello {{ first_name | default: "reader" }},\n\nThis message was rendered, signed twice (RSA and Ed25519) and relayed by relais.',
  });
  const campaign = await call('POST', '/campaigns', {
    name: 'relais demo',
    messageClass: 'marketing',
    from: { email: 'news@mail.relais.test', name: 'relais demo' },
    segmentId: segment['id'],
    templateId: template['id'],
  });
  const campaignId = String(campaign['id']);
  await call('POST', `/campaigns/${campaignId}/launch`, {});
  return campaignId;
}

async function followCampaign(
  platform: Platform,
  base: string,
  campaignId: string,
  deadline: number,
  say: (line: string) => void,
): Promise<CampaignView> {
  let last = '';
  for (;;) {
    const view = await readCampaign(platform, campaignId);
    const counts = view.counts;
    const line = `  ${[
      'queued',
      'deferred',
      'delivered',
      'bounced',
      'failed',
      'expired',
      'suppressed',
    ]
      .map((state) => `${state} ${counts[state] ?? 0}`)
      .join(' · ')} (of ${counts.total})`;
    if (line !== last) {
      say(line);
      last = line;
    }
    const inFlight = IN_FLIGHT.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
    if (view.recipientsResolvedAt !== null && inFlight === 0 && counts.total > 0) return view;
    if (Date.now() > deadline) {
      throw new Error(`demo campaign not final before the timeout: ${line.trim()} (${base})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function readCampaign(platform: Platform, campaignId: string): Promise<CampaignView> {
  const { rows: campaigns } = await platform.store.query<{
    status: string;
    recipients_resolved_at: Date | null;
  }>(`SELECT status, recipients_resolved_at FROM campaigns WHERE id = $1`, [campaignId]);
  const { rows } = await platform.store.query<{ state: string; n: string }>(
    `SELECT state, count(*) AS n FROM messages WHERE campaign_id = $1 GROUP BY state`,
    [campaignId],
  );
  const counts: Record<string, number> & { total: number } = { total: 0 };
  for (const row of rows) {
    counts[row.state] = Number(row.n);
    counts.total += Number(row.n);
  }
  const campaign = campaigns[0];
  return {
    status: campaign?.status ?? 'unknown',
    recipientsResolvedAt: campaign?.recipients_resolved_at?.toISOString() ?? null,
    counts,
  };
}

/** Deferred attempts, as analytics counted them (a message may be deferred several times). */
async function countDeferrals(platform: Platform, campaignId: string): Promise<number> {
  const { rows } = await platform.store.query<{ n: string | null }>(
    `SELECT sum(value) AS n FROM campaign_counters WHERE campaign_id = $1 AND counter = 'deferred'`,
    [campaignId],
  );
  return Number(rows[0]?.n ?? 0);
}

function summarize(
  view: CampaignView,
  durationMs: number,
  seen: { accepted: number; dkimBothPassed: number; deferrals: number },
): DemoSummary {
  const { accepted, dkimBothPassed, deferrals } = seen;
  const n = (state: string) => view.counts[state] ?? 0;
  const delivered = n('delivered');
  const bounced = n('bounced');
  const failed = n('failed') + n('expired') + n('cancelled');
  const suppressed = n('suppressed');
  const recipients = view.counts.total;
  return {
    recipients,
    delivered,
    bounced,
    failed,
    suppressed,
    durationMs,
    messagesPerSecond: Math.round(((delivered + bounced + failed) / (durationMs / 1000)) * 10) / 10,
    simulatorAccepted: accepted,
    dkimBothPassed,
    deferrals,
    checks: {
      totalsAddUp: delivered + bounced + failed + suppressed === recipients,
      acceptedIsDelivered: accepted === delivered,
      everyAcceptedDkimPassed: dkimBothPassed === accepted,
    },
  };
}

function printSummary(summary: DemoSummary, say: (line: string) => void): void {
  say('relais demo: every recipient is final');
  say(`  recipients  ${summary.recipients}`);
  say(`  delivered   ${summary.delivered}  (the simulator accepted ${summary.simulatorAccepted})`);
  say(`  bounced     ${summary.bounced}`);
  say(`  failed      ${summary.failed}`);
  say(`  suppressed  ${summary.suppressed}  (excluded at launch)`);
  say(`  DKIM        ${summary.dkimBothPassed} accepted messages passed RSA and Ed25519`);
  say(
    `  duration    ${(summary.durationMs / 1000).toFixed(1)} s, ${summary.messagesPerSecond} messages/s`,
  );
  for (const [check, ok] of Object.entries(summary.checks)) {
    say(`  ${ok ? 'ok  ' : 'FAIL'}        ${check}`);
  }
}
