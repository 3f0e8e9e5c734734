import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@relais/store';
import { completeCampaigns, onDeliveryBounced, onDeliveryDelivered } from '../src/index';
import type { AnalyticsPorts } from '../src/ports';
import {
  completedInOutbox,
  deliveryEvent,
  drivers,
  openMigrated,
  portsFor,
  seedCampaign,
  seedTenant,
} from './fixtures';

async function campaignStatus(store: Store, campaignId: string) {
  const { rows } = await store.query<{ status: string; finished_at: Date | null }>(
    `SELECT status, finished_at FROM campaigns WHERE id = $1`,
    [campaignId],
  );
  return rows[0]!;
}

describe.each(drivers)('campaign completion on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let ports: AnalyticsPorts;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    ports = portsFor(store);
  });
  afterAll(() => drop());

  it('completes a campaign once its last message is final, and announces it once', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId, {
      states: ['queued', 'deferred', 'suppressed'],
    });
    await onDeliveryDelivered(
      deliveryEvent('delivery.delivered', tenantId, messageIds[0]!, campaignId),
      ports,
    );
    await completeCampaigns(ports);
    expect((await campaignStatus(store, campaignId)).status).toBe('sending');

    await onDeliveryBounced(
      deliveryEvent('delivery.bounced', tenantId, messageIds[1]!, campaignId),
      ports,
    );
    await completeCampaigns(ports);
    await completeCampaigns(ports);

    const campaign = await campaignStatus(store, campaignId);
    expect(campaign.status).toBe('completed');
    expect(campaign.finished_at).toBeInstanceOf(Date);
    expect(await completedInOutbox(store, campaignId)).toBe(1);
  });

  it('completes concurrent sweeps of the same campaign once', async () => {
    const { tenantId } = await seedTenant(store);
    const { campaignId } = await seedCampaign(store, tenantId, { states: ['delivered'] });
    await Promise.all([completeCampaigns(ports), completeCampaigns(ports)]);
    expect((await campaignStatus(store, campaignId)).status).toBe('completed');
    expect(await completedInOutbox(store, campaignId)).toBe(1);
  });

  it('leaves paused campaigns, unresolved ones and ones with mail in flight alone', async () => {
    const { tenantId } = await seedTenant(store);
    const paused = await seedCampaign(store, tenantId, { status: 'paused', states: ['delivered'] });
    const pending = await seedCampaign(store, tenantId, { states: ['delivered', 'pending'] });
    const unresolved = await seedCampaign(store, tenantId, { states: ['delivered'] });
    await store.query(`UPDATE campaigns SET recipients_resolved_at = NULL WHERE id = $1`, [
      unresolved.campaignId,
    ]);

    await completeCampaigns(ports);

    for (const { campaignId } of [paused, pending, unresolved]) {
      expect(await completedInOutbox(store, campaignId)).toBe(0);
    }
    expect((await campaignStatus(store, paused.campaignId)).status).toBe('paused');
    expect((await campaignStatus(store, pending.campaignId)).status).toBe('sending');
    expect((await campaignStatus(store, unresolved.campaignId)).status).toBe('sending');
  });
});
