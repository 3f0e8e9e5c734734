import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelaisError } from '@relais/domain';
import type { Store } from '@relais/store';
import { onCampaignLaunched } from '../src/handlers/on-campaign-launched';
import {
  campaignRow,
  drivers,
  launchEnvelope,
  messagesOf,
  openMigrated,
  outboxOf,
  portsFor,
  seedCampaign,
  seedContacts,
  seedManyContacts,
  seedTenant,
  suppress,
} from './fixtures';

describe.each(drivers)('recipient resolution on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
  });
  afterAll(() => drop());

  const audience = [
    { email: 'ok@a.test' },
    { email: 'blocked@a.test' },
    { email: 'someone@blocked.test' },
    { email: 'unsub@a.test', status: 'unsubscribed' as const },
    { email: 'refused@a.test', consent: false },
    { email: 'never-asked@a.test', consent: 'absent' as const },
    { email: 'blocked-and-unsub@a.test', status: 'unsubscribed' as const },
  ];

  async function seedAudience() {
    const tenantId = await seedTenant(store);
    await seedContacts(store, tenantId, audience);
    await suppress(store, tenantId, 'address', 'blocked@a.test');
    await suppress(store, tenantId, 'address', 'blocked-and-unsub@a.test');
    await suppress(store, tenantId, 'domain', 'blocked.test');
    // Another tenant's suppression of the same address must not reach this tenant.
    const other = await seedTenant(store);
    await suppress(store, other, 'address', 'ok@a.test');
    return tenantId;
  }

  function outcomes(rows: Awaited<ReturnType<typeof messagesOf>>) {
    return Object.fromEntries(rows.map((row) => [row.email, [row.state, row.excluded_reason]]));
  }

  it('keeps a row with its reason for every excluded contact of a marketing campaign', async () => {
    const tenantId = await seedAudience();
    const campaign = await seedCampaign(store, tenantId);
    await onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));

    expect(outcomes(await messagesOf(store, campaign.campaignId))).toEqual({
      'ok@a.test': ['queued', null],
      'blocked@a.test': ['suppressed', 'suppressed'],
      'someone@blocked.test': ['suppressed', 'suppressed'],
      'unsub@a.test': ['suppressed', 'unsubscribed'],
      'refused@a.test': ['suppressed', 'no_consent'],
      'never-asked@a.test': ['suppressed', 'no_consent'],
      'blocked-and-unsub@a.test': ['suppressed', 'suppressed'],
    });
    const row = await campaignRow(store, campaign.campaignId);
    expect(row.status).toBe('sending');
    expect(row.recipients_resolved_at).toBeInstanceOf(Date);
  });

  it('ignores consent and unsubscribes for transactional mail but not suppressions', async () => {
    const tenantId = await seedAudience();
    const campaign = await seedCampaign(store, tenantId, { messageClass: 'transactional' });
    await onCampaignLaunched(launchEnvelope(tenantId, campaign, 'transactional'), portsFor(store));

    expect(outcomes(await messagesOf(store, campaign.campaignId))).toEqual({
      'ok@a.test': ['queued', null],
      'blocked@a.test': ['suppressed', 'suppressed'],
      'someone@blocked.test': ['suppressed', 'suppressed'],
      'unsub@a.test': ['queued', null],
      'refused@a.test': ['queued', null],
      'never-asked@a.test': ['queued', null],
      'blocked-and-unsub@a.test': ['suppressed', 'suppressed'],
    });
  });

  it('writes rows only for contacts the segment rule matches', async () => {
    const tenantId = await seedTenant(store);
    await seedContacts(store, tenantId, [
      { email: 'vip@a.test', tags: ['vip'], attributes: { plan: 'pro' } },
      { email: 'pro@a.test', attributes: { plan: 'pro' } },
      { email: 'free@a.test', attributes: { plan: 'free' } },
    ]);
    const campaign = await seedCampaign(store, tenantId, {
      rules: { or: [{ tag: 'vip' }, { attribute: 'plan', op: '=', value: 'pro' }] },
    });
    await onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));

    const emails = (await messagesOf(store, campaign.campaignId)).map((row) => row.email);
    expect(emails.sort()).toEqual(['pro@a.test', 'vip@a.test']);
  });

  it.each([{ split: [30, 70] }, { split: [20, 30, 50] }])(
    'splits 10,000 recipients $split within 2 % of each share',
    async ({ split }) => {
      const tenantId = await seedTenant(store);
      await seedManyContacts(store, tenantId, 10_000);
      const variants = split.map((weight, i) => ({ name: `V${i}`, weight }));
      const campaign = await seedCampaign(store, tenantId, { variants });
      await onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));

      const { rows } = await store.query<{ variant: string; n: number }>(
        `SELECT variant, count(*)::int AS n FROM messages WHERE campaign_id = $1 GROUP BY variant`,
        [campaign.campaignId],
      );
      expect(rows.reduce((sum, row) => sum + row.n, 0)).toBe(10_000);
      for (const { name, weight } of variants) {
        const share = (rows.find((row) => row.variant === name)?.n ?? 0) / 10_000;
        expect(Math.abs(share - weight / 100)).toBeLessThanOrEqual(0.02);
      }
    },
  );

  it('assigns a contact the same variant in every resolution of the same campaign', async () => {
    const tenantId = await seedTenant(store);
    await seedManyContacts(store, tenantId, 200);
    const variants = [
      { name: 'A', weight: 50 },
      { name: 'B', weight: 50 },
    ];
    const campaign = await seedCampaign(store, tenantId, { variants });
    await onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));
    const first = await messagesOf(store, campaign.campaignId);

    // Resolve again from scratch, as a crashed first attempt would be re-run.
    await store.query(`DELETE FROM messages WHERE campaign_id = $1`, [campaign.campaignId]);
    await store.query(
      `UPDATE campaigns SET recipients_resolved_at = NULL, status = 'launched' WHERE id = $1`,
      [campaign.campaignId],
    );
    await store.query(`DELETE FROM outbox WHERE tenant_id = $1`, [tenantId]);
    await store.query(
      `UPDATE campaigns SET dispatch_cursor = NULL, dispatch_batches = 0 WHERE id = $1`,
      [campaign.campaignId],
    );
    await onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));
    const second = await messagesOf(store, campaign.campaignId);

    const variantOf = (rows: typeof first) => rows.map((row) => [row.contact_id, row.variant]);
    expect(variantOf(second)).toEqual(variantOf(first));
    expect(new Set(first.map((row) => row.variant))).toEqual(new Set(['A', 'B']));
  });

  it('completes a campaign whose segment is empty without publishing a batch', async () => {
    const tenantId = await seedTenant(store);
    await seedContacts(store, tenantId, [{ email: 'free@a.test', attributes: { plan: 'free' } }]);
    const campaign = await seedCampaign(store, tenantId, {
      rules: { attribute: 'plan', op: '=', value: 'enterprise' },
    });
    await onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));

    const row = await campaignRow(store, campaign.campaignId);
    expect(row.status).toBe('completed');
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(await outboxOf(store, tenantId, 'dispatch.batch')).toEqual([]);
    const completed = await outboxOf(store, tenantId, 'campaign.completed');
    expect(completed.map((envelope) => envelope.data)).toEqual([
      { campaignId: campaign.campaignId },
    ]);
  });

  it('completes a campaign whose every recipient is excluded', async () => {
    const tenantId = await seedTenant(store);
    await seedContacts(store, tenantId, [{ email: 'refused@a.test', consent: false }]);
    const campaign = await seedCampaign(store, tenantId);
    await onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));

    expect((await campaignRow(store, campaign.campaignId)).status).toBe('completed');
    expect(await messagesOf(store, campaign.campaignId)).toHaveLength(1);
    expect(await outboxOf(store, tenantId, 'campaign.completed')).toHaveLength(1);
  });

  it('does nothing for a launch whose tenant does not own the campaign', async () => {
    const owner = await seedTenant(store);
    await seedManyContacts(store, owner, 10);
    const campaign = await seedCampaign(store, owner);
    const intruder = await seedTenant(store);
    await seedManyContacts(store, intruder, 10);

    await onCampaignLaunched(launchEnvelope(intruder, campaign), portsFor(store));

    expect(await messagesOf(store, campaign.campaignId)).toEqual([]);
    expect((await campaignRow(store, campaign.campaignId)).status).toBe('launched');
    expect(await outboxOf(store, intruder, 'dispatch.batch')).toEqual([]);
    expect(await outboxOf(store, owner, 'dispatch.batch')).toEqual([]);
  });

  it('does nothing for a launch of a campaign cancelled before it was handled', async () => {
    const tenantId = await seedTenant(store);
    await seedManyContacts(store, tenantId, 10);
    const campaign = await seedCampaign(store, tenantId, { status: 'cancelled' });
    await onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));

    expect(await messagesOf(store, campaign.campaignId)).toEqual([]);
    expect((await campaignRow(store, campaign.campaignId)).recipients_resolved_at).toBeNull();
  });

  it('refuses without retry a stored segment rule that does not validate', async () => {
    const tenantId = await seedTenant(store);
    const campaign = await seedCampaign(store, tenantId, { rules: { attribute: 'plan' } });
    const launch = onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));

    await expect(launch).rejects.toBeInstanceOf(RelaisError);
    await expect(launch).rejects.toMatchObject({ retryable: false });
    expect((await campaignRow(store, campaign.campaignId)).recipients_resolved_at).toBeNull();
  });
});
