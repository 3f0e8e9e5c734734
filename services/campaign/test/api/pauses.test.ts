import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope } from '@relais/domain';
import { createLogger } from '@relais/telemetry';
import { onCampaignPause } from '../../src/handlers/on-campaign-pause';
import { drivers, startApi, type ApiHarness, type Client } from './harness';

// A circuit breaker's pause as the campaign service takes it (the `campaign.pause` command),
// shows it (the campaign view's `pauses`) and lifts it (one resume call).

const logger = createLogger({ service: 'campaign-test', level: 'silent' });
const list = await drivers();

describe.each(list)('paused slices on $name', (driver) => {
  let api: ApiHarness;
  let acme: Client;

  beforeAll(async () => {
    api = await startApi(driver);
    acme = await api.tenant('acme');
  });
  afterAll(() => api.close());

  async function sendingCampaign(): Promise<string> {
    const segment = await acme.call('POST', '/segments', { name: 'all', rules: { all: true } });
    const template = await acme.call('POST', '/templates', {
      name: 'news',
      subject: 'News',
      text: 'Hello',
    });
    const created = await acme.call('POST', '/campaigns', {
      name: 'Spring',
      messageClass: 'marketing',
      from: { email: 'news@acme.example' },
      segmentId: segment.body.id,
      templateId: template.body.id,
    });
    const id = created.body.id as string;
    await acme.call('POST', `/campaigns/${id}/launch`, {});
    // What segmentation does once the recipients are resolved.
    await api.store.query(
      `UPDATE campaigns SET status = 'sending', recipients_resolved_at = now() WHERE id = $1`,
      [id],
    );
    return id;
  }

  const command = (campaignId: string, scope: { provider?: string; pool?: string }) =>
    createEnvelope({
      type: 'campaign.pause',
      tenantId: acme.tenantId,
      data: {
        campaignId: campaignId,
        scope,
        metric: 'bounce_rate',
        reason: 'Paused automatically: provider yahoo hard-bounce rate 20.0 %',
        evidence: { sample: 150, events: 30, lowerBound: 0.1518, threshold: 0.05 },
      },
    });

  const outbox = async (campaignId: string) => {
    const { rows } = await api.store.query<{ type: string; envelope: unknown }>(
      `SELECT type, envelope FROM outbox WHERE envelope -> 'data' ->> 'campaignId' = $1
       ORDER BY created_at, type`,
      [campaignId],
    );
    return rows.map((row) => {
      const envelope = (
        typeof row.envelope === 'string' ? JSON.parse(row.envelope) : row.envelope
      ) as { data: { scope?: unknown } };
      return [row.type, envelope.data.scope ?? null];
    });
  };

  it('records a breaker pause once, shows it while the campaign keeps sending, and resumes it in one call', async () => {
    const id = await sendingCampaign();
    const ports = { store: api.store, logger };
    await onCampaignPause(command(id, { provider: 'yahoo' }), ports);
    // A repeated command (a redelivery, a second sweep) changes nothing.
    await onCampaignPause(command(id, { provider: 'yahoo' }), ports);

    const view = await acme.call('GET', `/campaigns/${id}`);
    expect(view.body.status).toBe('sending');
    expect(view.body.pauses).toEqual([
      expect.objectContaining({
        provider: 'yahoo',
        source: 'breaker',
        metric: 'bounce_rate',
        reason: 'Paused automatically: provider yahoo hard-bounce rate 20.0 %',
        evidence: { sample: 150, events: 30, lowerBound: 0.1518, threshold: 0.05 },
        resumedAt: null,
      }),
    ]);
    expect(view.body.pauses[0]).not.toHaveProperty('pool');

    const unknownSlice = await acme.call('POST', `/campaigns/${id}/resume`, { provider: 'google' });
    expect(unknownSlice.status).toBe(404);

    const resumed = await acme.call('POST', `/campaigns/${id}/resume`, {});
    expect(resumed.status).toBe(200);
    expect(resumed.body.status).toBe('sending');
    expect(resumed.body.pauses[0]).toMatchObject({
      provider: 'yahoo',
      resumedBy: expect.stringMatching(/^api-key:/) as unknown,
    });
    expect(resumed.body.pauses[0].resumedAt).not.toBeNull();
    // Nothing is paused any more: a sending campaign cannot resume.
    expect((await acme.call('POST', `/campaigns/${id}/resume`, {})).status).toBe(409);

    expect(await outbox(id)).toEqual([
      ['campaign.launched', null],
      ['campaign.paused', { provider: 'yahoo' }],
      ['campaign.resumed', { provider: 'yahoo' }],
    ]);
  });

  it('resumes one slice when asked, and everything with the campaign when it was paused too', async () => {
    const id = await sendingCampaign();
    const ports = { store: api.store, logger };
    await onCampaignPause(command(id, { provider: 'yahoo' }), ports);
    await onCampaignPause(command(id, { pool: 'shared' }), ports);

    const one = await acme.call('POST', `/campaigns/${id}/resume`, { pool: 'shared' });
    expect(one.status).toBe(200);
    const inForce = (one.body.pauses as { resumedAt: string | null; provider?: string }[]).filter(
      (pause) => pause.resumedAt === null,
    );
    expect(inForce.map((pause) => pause.provider)).toEqual(['yahoo']);

    const paused = await acme.call('POST', `/campaigns/${id}/pause`, { reason: 'checking' });
    expect(paused.body.status).toBe('paused');
    expect(paused.body.pauses[0]).toMatchObject({ source: 'user', reason: 'checking' });
    expect(paused.body.pauses[0]).not.toHaveProperty('provider');
    // A campaign that is not sending takes no breaker pause.
    await onCampaignPause(command(id, { provider: 'google' }), ports);

    const all = await acme.call('POST', `/campaigns/${id}/resume`, {});
    expect(all.body.status).toBe('sending');
    expect(
      (all.body.pauses as { resumedAt: string | null }[]).every((p) => p.resumedAt !== null),
    ).toBe(true);
    expect(all.body.pauses).toHaveLength(3);
  });
});
