import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignId } from '@relais/domain';
import type { PausedSlice, PauseStore } from '../src/index';
import { startHarness, waitFor, type Harness } from './helpers';

// A circuit breaker's paused slice, as the relay sees it: the pauses in force are read from
// a store (a fake here, `campaign_pauses` in production) and the slice's messages are held
// on the bus without an attempt, while the rest of the campaign and other campaigns flow.

const newCampaignId = () => randomUUID() as CampaignId;

describe('paused campaign slices', () => {
  let harness: Harness;
  let reads = 0;
  let inForce: PausedSlice[] = [];
  const pauseStore: PauseStore = {
    load: () => {
      reads += 1;
      return Promise.resolve([...inForce]);
    },
  };

  beforeAll(async () => {
    harness = await startHarness({
      profiles: [
        { name: 'yahoosim', domains: ['yahoo.com'] },
        { name: 'gmailsim', domains: ['gmail.com'] },
      ],
      settings: { pauseRefreshInterval: 100, pausedRecheck: 200 },
      relayOptions: { pauseStore },
    });
  });
  afterAll(() => harness.close());

  const recipients = (name: string) => harness.simulator.stats()[name]?.recipientsAccepted ?? 0;

  it('holds the paused provider of a campaign without an attempt and sends it after the resume', async () => {
    const campaignId = newCampaignId();
    inForce = [{ campaignId, provider: 'yahoo', pool: '' }];
    const readsBefore = reads;
    await waitFor(() => reads > readsBefore);

    const held = await harness.send('reader1@yahoo.com', { campaignId });
    const sameCampaignOtherProvider = await harness.send('reader2@gmail.com', { campaignId });
    const otherCampaign = await harness.send('reader3@yahoo.com', { campaignId: newCampaignId() });
    await waitFor(
      () =>
        harness.eventsOf(sameCampaignOtherProvider).length > 0 &&
        harness.eventsOf(otherCampaign).length > 0,
    );
    // Held for several rechecks: nothing reached the provider, no event was published.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(harness.eventsOf(held)).toEqual([]);
    expect(recipients('yahoosim')).toBe(1);

    inForce = [];
    await waitFor(() => harness.eventsOf(held).length > 0);
    const [event] = harness.eventsOf(held);
    expect(event?.type).toBe('delivery.delivered');
    // The holds used up none of the message's attempts.
    expect(event?.data.attempt).toBe(1);
    expect(recipients('yahoosim')).toBe(2);
    expect(harness.deadLettered).toEqual([]);
  });

  it('holds a paused pool of a campaign whatever the provider', async () => {
    const campaignId = newCampaignId();
    inForce = [{ campaignId, provider: '', pool: 'default' }];
    const readsBefore = reads;
    await waitFor(() => reads > readsBefore);
    const held = await harness.send('reader4@gmail.com', { campaignId });
    const transactional = await harness.send('reader5@gmail.com', { campaignId: undefined });
    await waitFor(() => harness.eventsOf(transactional).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(harness.eventsOf(held)).toEqual([]);
    inForce = [];
    await waitFor(() => harness.eventsOf(held).length > 0);
    expect(harness.eventsOf(held).map((e) => e.type)).toEqual(['delivery.delivered']);
  });
});
