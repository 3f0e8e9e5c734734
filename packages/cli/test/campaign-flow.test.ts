import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope, type CampaignId, type SegmentId, type TenantId } from '@relais/domain';
import { createTenant } from '@relais/campaign';
import { loadConfig } from '@relais/config';
import { startPlatform, type Platform } from '@relais/platform';
import {
  createTestSchema,
  createTestVhost,
  probe,
  uniqueName,
  type TestSchema,
  type TestVhost,
} from '@relais/testing';
import { platformConfigSchema, startServices } from '../src/commands/services';

// The campaign data plane end to end: HTTP API → outbox → bus → segmentation → message rows
// and dispatch batches, in embedded mode (PGlite, in-process bus) and distributed mode
// (PostgreSQL, RabbitMQ) with the same cases.

const rabbit = await probe('rabbitmq');
const pg = await probe('postgres');

interface Mode {
  name: string;
  env: () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>;
}

const modes: Mode[] = [
  {
    name: 'embedded',
    env: () =>
      Promise.resolve({ env: { DATA_DIR: 'memory://' }, cleanup: () => Promise.resolve() }),
  },
];
if (rabbit.available && pg.available) {
  modes.push({
    name: 'distributed',
    env: async () => {
      const vhost: TestVhost = await createTestVhost('relais_flow');
      const schema: TestSchema = await createTestSchema('relais_flow');
      return {
        env: { AMQP_URL: vhost.url, DATABASE_URL: schema.url },
        cleanup: async () => {
          await vhost.cleanup();
          await schema.cleanup();
        },
      };
    },
  });
}

// Large enough that the A/B campaign has over 10,000 recipients after exclusions.
const CONTACTS = 14_000;

function contactsCsv(from: number, count: number, domain: (i: number) => string): string {
  const lines = ['email,first_name,group:number'];
  for (let i = from; i < from + count; i += 1) lines.push(`user${i}@${domain(i)},N${i},${i % 10}`);
  return lines.join('\n');
}

async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(modes)('campaign data plane, $name', (mode) => {
  let platform: Platform;
  let cleanup: () => Promise<void>;
  let base: string;
  let tenantId: TenantId;
  let key: string;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ) => {
    const response = await fetch(`${base}/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  const dispatched = async (campaignId: string) => {
    const { rows } = await platform.store.query<{ envelope: any }>(
      `SELECT envelope FROM outbox WHERE type = 'dispatch.batch' AND envelope -> 'data' ->> 'campaignId' = $1`,
      [campaignId],
    );
    return rows.flatMap(
      (row) => row.envelope.data.recipients as { messageId: string; variant: string }[],
    );
  };

  const launchAndSettle = async (campaignId: string) => {
    expect((await call('POST', `/campaigns/${campaignId}/launch`, {})).status).toBe(200);
    return waitFor(
      () => call('GET', `/campaigns/${campaignId}`).then((r) => r.body),
      (c) => c.recipientsResolvedAt !== null && c.counts.pending === 0,
    );
  };

  beforeAll(async () => {
    const infra = await mode.env();
    cleanup = infra.cleanup;
    const config = loadConfig(platformConfigSchema(), {
      env: {
        ...infra.env,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        LOG_LEVEL: 'warn',
        NAMESPACE: uniqueName('flow'),
      },
      argv: [],
    });
    platform = await startPlatform('relais-flow-test', config);
    // Only the data plane: the counts below are taken while recipients wait in 'queued'
    // (demo.test.ts covers the delivery path behind it).
    await startServices(platform, config, { only: ['campaign', 'segmentation'] });
    const { port } = await platform.runtime.start();
    base = `http://127.0.0.1:${port}`;
    const created = await createTenant(platform.store, 'flow');
    tenantId = created.tenant.id;
    key = created.apiKey.key;

    // 14,000 consenting contacts over four domains, then the exclusions.
    const domains = ['gmail.com', 'orange.fr', 'yahoo.com', 'example.net'];
    const consenting = await call(
      'POST',
      '/contacts/imports?consentPurpose=marketing&consentSource=flow-test',
      contactsCsv(0, CONTACTS, (i) => domains[i % 4]!),
      'text/csv',
    );
    expect(consenting.body).toMatchObject({ created: CONTACTS, rejected: 0 });
    // 50 without consent, 20 unsubscribed, 10 suppressed by address, one domain suppressed.
    const noConsent = await call(
      'POST',
      '/contacts/imports',
      contactsCsv(CONTACTS, 50, () => 'gmail.com'),
      'text/csv',
    );
    expect(noConsent.body.created).toBe(50);
    // Index i lives at domains[i % 4]: multiples of 4 are the gmail.com contacts.
    for (let i = 0; i < 80; i += 4) {
      await call('POST', '/contacts', { email: `user${i}@gmail.com`, status: 'unsubscribed' });
    }
    for (let i = 80; i < 120; i += 4) {
      await call('POST', '/suppressions', {
        kind: 'address',
        value: `USER${i}@gmail.com`,
        reason: 'hard bounce',
      });
    }
    await call('POST', '/suppressions', {
      kind: 'domain',
      value: 'example.net',
      reason: 'blocked',
    });
  }, 180_000);

  afterAll(async () => {
    await platform?.runtime.stop('test finished');
    await cleanup?.();
  });

  it('resolves a marketing campaign: exclusions recorded with reasons, A/B split within 2 %', async () => {
    const segment = await call('POST', '/segments', { name: 'everyone', rules: { all: true } });
    const a = await call('POST', '/templates', { name: 'A', subject: 'A', text: 'a' });
    const b = await call('POST', '/templates', { name: 'B', subject: 'B', text: 'b' });
    const { body: campaign } = await call('POST', '/campaigns', {
      name: 'split',
      messageClass: 'marketing',
      from: { email: 'news@flow.example' },
      segmentId: segment.body.id,
      variants: [
        { name: 'A', templateId: a.body.id, weight: 30 },
        { name: 'B', templateId: b.body.id, weight: 70 },
      ],
    });
    const settled = await launchAndSettle(campaign.id);

    // 3,500 at example.net (domain), 10 by address, 20 unsubscribed, 50 without consent.
    const excluded = 3_500 + 10 + 20 + 50;
    const eligible = CONTACTS + 50 - excluded;
    expect(settled.counts).toMatchObject({
      total: CONTACTS + 50,
      suppressed: excluded,
      queued: eligible,
    });
    const { rows: reasons } = await platform.store.query<{ excluded_reason: string; n: string }>(
      `SELECT excluded_reason, count(*) AS n FROM messages WHERE campaign_id = $1 AND state = 'suppressed'
       GROUP BY 1 ORDER BY 1`,
      [campaign.id],
    );
    expect(reasons.map((r) => [r.excluded_reason, Number(r.n)])).toEqual([
      ['no_consent', 50],
      ['suppressed', 3_510],
      ['unsubscribed', 20],
    ]);
    expect(eligible).toBeGreaterThan(10_000);
    const shareA = settled.variantCounts.A / eligible;
    expect(Math.abs(shareA - 0.3)).toBeLessThan(0.02);
    expect(settled.variantCounts.A + settled.variantCounts.B).toBe(eligible);

    const recipients = await dispatched(campaign.id);
    expect(recipients).toHaveLength(eligible);
    expect(new Set(recipients.map((r) => r.messageId)).size).toBe(eligible);
  });

  it('ignores consent but never suppressions for transactional mail', async () => {
    const segment = await call('POST', '/segments', {
      name: 'gmail',
      rules: { field: 'emailDomain', op: '=', value: 'gmail.com' },
    });
    const template = await call('POST', '/templates', { name: 'T', subject: 'T', text: 't' });
    const { body: campaign } = await call('POST', '/campaigns', {
      name: 'notice',
      messageClass: 'transactional',
      from: { email: 'ops@flow.example' },
      segmentId: segment.body.id,
      templateId: template.body.id,
    });
    const settled = await launchAndSettle(campaign.id);
    expect(settled.counts).toMatchObject({ total: 3_500 + 50, suppressed: 10, queued: 3_540 });
  });

  it('makes no duplicate recipients or batches when the launch is delivered again', async () => {
    const segment = await call('POST', '/segments', {
      name: 'group 3',
      rules: { attribute: 'group', op: '=', value: 3 },
    });
    const template = await call('POST', '/templates', { name: 'R', subject: 'R', text: 'r' });
    const { body: campaign } = await call('POST', '/campaigns', {
      name: 'redelivered',
      messageClass: 'marketing',
      from: { email: 'news@flow.example' },
      segmentId: segment.body.id,
      templateId: template.body.id,
    });
    const first = await launchAndSettle(campaign.id);
    const before = await dispatched(campaign.id);
    expect(before.length).toBe(first.counts.queued);

    // A second copy of the launch, as a broker redelivery or a duplicate publish would bring.
    const duplicate = createEnvelope({
      type: 'campaign.launched',
      tenantId,
      data: {
        campaignId: campaign.id as CampaignId,
        segmentId: segment.body.id as SegmentId,
        messageClass: 'marketing',
      },
    });
    await platform.bus.publish(duplicate);
    await platform.bus.publish(duplicate);
    // The handler runs and finds the work done; give it time to have run.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const after = await call('GET', `/campaigns/${campaign.id}`);
    expect(after.body.counts).toEqual(first.counts);
    expect(await dispatched(campaign.id)).toHaveLength(before.length);
  });

  it('cancels a paused campaign: nothing more is dispatched', async () => {
    const segment = await call('POST', '/segments', {
      name: 'orange',
      rules: { field: 'emailDomain', op: '=', value: 'orange.fr' },
    });
    const template = await call('POST', '/templates', { name: 'P', subject: 'P', text: 'p' });
    const { body: campaign } = await call('POST', '/campaigns', {
      name: 'paused',
      messageClass: 'marketing',
      from: { email: 'news@flow.example' },
      segmentId: segment.body.id,
      templateId: template.body.id,
    });
    await call('POST', `/campaigns/${campaign.id}/launch`, {});
    const paused = await call('POST', `/campaigns/${campaign.id}/pause`, {});
    expect(paused.body.status).toBe('paused');
    const cancelled = await call('POST', `/campaigns/${campaign.id}/cancel`, {});
    expect(cancelled.body.status).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const final = (await call('GET', `/campaigns/${campaign.id}`)).body;
    expect(final.counts.pending).toBe(0);
    expect(await dispatched(campaign.id)).toHaveLength(final.counts.queued);
  });
});
