import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope, RelaisError, type TenantId } from '@relais/domain';
import type { Store } from '@relais/store';
import { onCampaignCancelled } from '../src/handlers/on-campaign-cancelled';
import { onCampaignCompleted } from '../src/handlers/on-campaign-completed';
import { onCampaignLaunched } from '../src/handlers/on-campaign-launched';
import { onCampaignPaused } from '../src/handlers/on-campaign-paused';
import { onCampaignResumed } from '../src/handlers/on-campaign-resumed';
import type { CampaignId } from '@relais/domain';
import type { RecipientStore } from '../src/ports';
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
} from './fixtures';

describe.each(drivers)('dispatch batches on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
  });
  afterAll(() => drop());

  async function launchable(contacts: number, variants?: Array<{ name: string; weight: number }>) {
    const tenantId = await seedTenant(store);
    await seedManyContacts(store, tenantId, contacts);
    const campaign = await seedCampaign(store, tenantId, variants ? { variants } : {});
    return { tenantId, campaign, launch: launchEnvelope(tenantId, campaign) };
  }

  /** Every published recipient's message id, in publication order. */
  async function published(tenantId: TenantId): Promise<string[]> {
    const batches = await outboxOf(store, tenantId, 'dispatch.batch');
    return batches.flatMap((envelope) => envelope.data.recipients.map((r) => r.messageId));
  }

  async function pendingIds(campaignId: CampaignId, states: string[]): Promise<string[]> {
    const rows = await messagesOf(store, campaignId);
    return rows.filter((row) => states.includes(row.state)).map((row) => row.id);
  }

  /** A store that lets the campaign API act (pause, cancel…) after the nth published batch. */
  function actingAfterBatch(n: number, act: () => Promise<void>) {
    return (inner: RecipientStore): RecipientStore => ({
      ...inner,
      dispatchNextBatch: async (...args) => {
        const outcome = await inner.dispatchNextBatch(...args);
        if (outcome.kind === 'dispatched' && outcome.batch === n - 1) await act();
        return outcome;
      },
    });
  }

  it('publishes recipients in batches of the configured size, in contact order', async () => {
    const variants = [
      { name: 'A', weight: 50 },
      { name: 'B', weight: 50 },
    ];
    const { tenantId, campaign, launch } = await launchable(1_234, variants);
    await onCampaignLaunched(launch, portsFor(store, { batchSize: 500 }));

    const batches = await outboxOf(store, tenantId, 'dispatch.batch');
    expect(batches.map((b) => [b.data.batch, b.data.recipients.length])).toEqual([
      [0, 500],
      [1, 500],
      [2, 234],
    ]);
    const contactIds = batches.flatMap((b) => b.data.recipients.map((r) => r.contactId));
    expect(contactIds).toEqual([...contactIds].sort());
    const messages = await messagesOf(store, campaign.campaignId);
    expect(messages.every((row) => row.state === 'queued')).toBe(true);
    expect(new Set(await published(tenantId))).toEqual(new Set(messages.map((row) => row.id)));

    const first = batches[0]!;
    expect(first.data).toMatchObject({
      campaignId: campaign.campaignId,
      messageClass: 'marketing',
    });
    const recipient = first.data.recipients[0]!;
    const row = messages.find((m) => m.id === recipient.messageId)!;
    expect(recipient).toMatchObject({
      contactId: row.contact_id,
      email: row.email,
      variant: row.variant,
      templateId: campaign.templates.get(row.variant),
      attributes: { n: expect.any(Number) as number },
    });
    const state = await campaignRow(store, campaign.campaignId);
    expect(state).toMatchObject({ status: 'sending', dispatch_batches: 3, finished_at: null });
  });

  it('publishes only recipients that were not excluded', async () => {
    const tenantId = await seedTenant(store);
    const ids = await seedContacts(store, tenantId, [
      { email: 'yes@a.test', attributes: { first: 'Ada' } },
      { email: 'no@a.test', consent: false },
    ]);
    const campaign = await seedCampaign(store, tenantId);
    await onCampaignLaunched(launchEnvelope(tenantId, campaign), portsFor(store));

    const batches = await outboxOf(store, tenantId, 'dispatch.batch');
    expect(batches.flatMap((b) => b.data.recipients)).toEqual([
      expect.objectContaining({
        contactId: ids.get('yes@a.test'),
        email: 'yes@a.test',
        attributes: { first: 'Ada' },
      }),
    ]);
  });

  it('adds no message and no batch for a redelivered or duplicated launch', async () => {
    const { tenantId, campaign, launch } = await launchable(1_100);
    const ports = portsFor(store, { batchSize: 500 });
    const duplicate = launchEnvelope(tenantId, campaign);
    await Promise.all([onCampaignLaunched(launch, ports), onCampaignLaunched(duplicate, ports)]);
    await onCampaignLaunched(launch, ports);

    expect(await messagesOf(store, campaign.campaignId)).toHaveLength(1_100);
    const batches = await outboxOf(store, tenantId, 'dispatch.batch');
    expect(batches.map((b) => b.data.batch)).toEqual([0, 1, 2]);
    const ids = await published(tenantId);
    expect(new Set(ids).size).toBe(1_100);
    expect(ids).toHaveLength(1_100);
  });

  it('resumes after a crash between batches without gaps or repeats', async () => {
    const { tenantId, campaign, launch } = await launchable(1_100);
    const crashing = portsFor(store, {
      batchSize: 300,
      wrap: actingAfterBatch(2, () =>
        Promise.reject(new RelaisError('STORE_UNAVAILABLE', 'connection lost')),
      ),
    });
    await expect(onCampaignLaunched(launch, crashing)).rejects.toMatchObject({ retryable: true });
    expect(await outboxOf(store, tenantId, 'dispatch.batch')).toHaveLength(2);

    await onCampaignLaunched(launch, portsFor(store, { batchSize: 300 }));

    const ids = await published(tenantId);
    expect(ids).toHaveLength(1_100);
    expect(new Set(ids)).toEqual(new Set(await pendingIds(campaign.campaignId, ['queued'])));
  });

  it('stops between batches at shutdown with a retryable error, and the retry continues', async () => {
    const { tenantId, campaign, launch } = await launchable(900);
    let stopping = false;
    const ports = {
      ...portsFor(store, {
        batchSize: 300,
        wrap: actingAfterBatch(1, async () => {
          stopping = true;
        }),
      }),
      stopping: () => stopping,
    };
    await expect(onCampaignLaunched(launch, ports)).rejects.toMatchObject({
      code: 'SHUTTING_DOWN',
      retryable: true,
    });
    expect(await outboxOf(store, tenantId, 'dispatch.batch')).toHaveLength(1);

    await onCampaignLaunched(launch, portsFor(store, { batchSize: 300 }));
    const ids = await published(tenantId);
    expect(ids).toHaveLength(900);
    expect(new Set(ids)).toEqual(new Set(await pendingIds(campaign.campaignId, ['queued'])));
  });

  it('stops publishing when paused between batches and continues on resume', async () => {
    const { tenantId, campaign, launch } = await launchable(1_000);
    const pause = () =>
      store
        .query(`UPDATE campaigns SET status = 'paused' WHERE id = $1`, [campaign.campaignId])
        .then(() => undefined);
    await onCampaignLaunched(
      launch,
      portsFor(store, { batchSize: 200, wrap: actingAfterBatch(2, pause) }),
    );

    expect(await outboxOf(store, tenantId, 'dispatch.batch')).toHaveLength(2);
    expect(await pendingIds(campaign.campaignId, ['pending'])).toHaveLength(600);
    // A redelivered launch while paused publishes nothing either.
    await onCampaignLaunched(launch, portsFor(store, { batchSize: 200 }));
    expect(await outboxOf(store, tenantId, 'dispatch.batch')).toHaveLength(2);

    await store.query(`UPDATE campaigns SET status = 'sending' WHERE id = $1`, [
      campaign.campaignId,
    ]);
    const resumed = createEnvelope({
      type: 'campaign.resumed',
      tenantId,
      data: { campaignId: campaign.campaignId },
    });
    await onCampaignResumed(resumed, portsFor(store, { batchSize: 200 }));

    const batches = await outboxOf(store, tenantId, 'dispatch.batch');
    expect(batches.map((b) => b.data.batch)).toEqual([0, 1, 2, 3, 4]);
    const ids = await published(tenantId);
    expect(ids).toHaveLength(1_000);
    expect(new Set(ids)).toEqual(new Set(await pendingIds(campaign.campaignId, ['queued'])));
    const contactIds = batches.flatMap((b) => b.data.recipients.map((r) => r.contactId));
    expect(contactIds).toEqual([...contactIds].sort());
  });

  it('publishes nothing more once cancelled, and a later resume does not restart it', async () => {
    const { tenantId, campaign, launch } = await launchable(1_000);
    // What the campaign API does in one transaction when a user cancels.
    const cancel = () =>
      store.transaction(async (tx) => {
        await tx.query(`UPDATE campaigns SET status = 'cancelled' WHERE id = $1`, [
          campaign.campaignId,
        ]);
        await tx.query(
          `UPDATE messages SET state = 'cancelled' WHERE campaign_id = $1 AND state = 'pending'`,
          [campaign.campaignId],
        );
      });
    await onCampaignLaunched(
      launch,
      portsFor(store, { batchSize: 300, wrap: actingAfterBatch(1, cancel) }),
    );
    const resumed = createEnvelope({
      type: 'campaign.resumed',
      tenantId,
      data: { campaignId: campaign.campaignId },
    });
    await onCampaignResumed(resumed, portsFor(store, { batchSize: 300 }));

    expect(await outboxOf(store, tenantId, 'dispatch.batch')).toHaveLength(1);
    expect(await pendingIds(campaign.campaignId, ['cancelled'])).toHaveLength(700);
    expect((await campaignRow(store, campaign.campaignId)).status).toBe('cancelled');
  });

  it('resolves and publishes on resume when the campaign was paused before its launch was handled', async () => {
    const { tenantId, campaign, launch } = await launchable(10);
    await store.query(`UPDATE campaigns SET status = 'paused' WHERE id = $1`, [
      campaign.campaignId,
    ]);
    await onCampaignLaunched(launch, portsFor(store));
    expect(await messagesOf(store, campaign.campaignId)).toEqual([]);

    await store.query(`UPDATE campaigns SET status = 'sending' WHERE id = $1`, [
      campaign.campaignId,
    ]);
    const resumed = createEnvelope({
      type: 'campaign.resumed',
      tenantId,
      data: { campaignId: campaign.campaignId },
    });
    await onCampaignResumed(resumed, portsFor(store));
    expect(await published(tenantId)).toHaveLength(10);
  });

  it('acknowledges pause, cancel and completion without touching the campaign', async () => {
    const { tenantId, campaign } = await launchable(5);
    const data = { campaignId: campaign.campaignId };
    const ports = portsFor(store);
    await onCampaignPaused(
      createEnvelope({ type: 'campaign.paused', tenantId, data: { ...data, reason: 'user' } }),
      ports,
    );
    await onCampaignCancelled(
      createEnvelope({ type: 'campaign.cancelled', tenantId, data }),
      ports,
    );
    await onCampaignCompleted(
      createEnvelope({ type: 'campaign.completed', tenantId, data }),
      ports,
    );

    expect(await messagesOf(store, campaign.campaignId)).toEqual([]);
    expect((await campaignRow(store, campaign.campaignId)).status).toBe('launched');
  });
});
