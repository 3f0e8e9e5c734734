import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterQueueName } from '@relais/bus';
import { createEnvelope, type Envelope } from '@relais/domain';
import { startPlatform, type Platform } from '@relais/platform';
import { enqueueOutbox } from '@relais/store';
import { uniqueName } from '@relais/testing';
import { segmentationConfigSchema, startSegmentation } from '../src/index';
import {
  campaignRow,
  launchEnvelope,
  messagesOf,
  seedCampaign,
  seedContacts,
  seedManyContacts,
  seedTenant,
} from './fixtures';

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('segmentation on the embedded platform (memory bus, outbox relay, PGlite)', () => {
  const namespace = uniqueName('seg').replace(/_/g, '-');
  const config = segmentationConfigSchema.parse({
    dataDir: 'memory://',
    httpPort: 0,
    logLevel: 'silent',
    namespace,
    batchSize: 250,
  });
  let platform: Platform;
  const batches: Array<Envelope<'dispatch.batch'>> = [];
  const deadLettered: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform('segmentation-test', config);
    await startSegmentation(platform, config);
    await platform.bus.subscribe(`${namespace}.dispatcher.batches`, {
      'dispatch.batch': async (envelope) => void batches.push(envelope),
    });
    const record = async (envelope: Envelope) => void deadLettered.push(envelope.type);
    await platform.bus.subscribe(deadLetterQueueName(namespace), {
      'campaign.launched': record,
      'campaign.paused': record,
      'campaign.resumed': record,
      'campaign.cancelled': record,
      'campaign.completed': record,
      'dispatch.batch': record,
    });
  });
  afterAll(() => platform.runtime.stop('test'));

  it('turns a launch published through the outbox into dispatcher batches', async () => {
    const { store } = platform;
    const tenantId = await seedTenant(store);
    await seedManyContacts(store, tenantId, 600);
    await seedContacts(store, tenantId, [{ email: 'refused@a.test', consent: false }]);
    const campaign = await seedCampaign(store, tenantId);
    // What the campaign API does when a user launches: the event leaves through the outbox.
    await enqueueOutbox(store, launchEnvelope(tenantId, campaign));

    await waitFor(() => batches.length === 3);
    expect(batches.map((b) => b.data.recipients.length)).toEqual([250, 250, 100]);
    const messages = await messagesOf(store, campaign.campaignId);
    expect(messages.filter((m) => m.state === 'queued')).toHaveLength(600);
    expect(messages.filter((m) => m.excluded_reason === 'no_consent')).toHaveLength(1);
    expect((await campaignRow(store, campaign.campaignId)).status).toBe('sending');
  });

  it('acknowledges every other campaign event instead of dead-lettering it', async () => {
    const tenantId = await seedTenant(platform.store);
    const { campaignId } = await seedCampaign(platform.store, tenantId, { status: 'paused' });
    const data = { campaignId };
    await platform.bus.publish(
      createEnvelope({ type: 'campaign.paused', tenantId, data: { ...data, reason: 'user' } }),
    );
    await platform.bus.publish(createEnvelope({ type: 'campaign.resumed', tenantId, data }));
    await platform.bus.publish(createEnvelope({ type: 'campaign.cancelled', tenantId, data }));
    await platform.bus.publish(createEnvelope({ type: 'campaign.completed', tenantId, data }));
    // A marker published last: once it is handled, the earlier ones were too.
    const marker = await seedCampaign(platform.store, tenantId);
    await platform.bus.publish(launchEnvelope(tenantId, marker));

    await waitFor(
      async () => (await campaignRow(platform.store, marker.campaignId)).status === 'completed',
    );
    expect(deadLettered).toEqual([]);
  });
});
