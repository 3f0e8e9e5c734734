import { describe, expect, it } from 'vitest';
import { holdingPause, indexPauses } from './paused-slices';

const campaign = 'C0FFEE00-0000-4000-8000-000000000001';

describe('paused slices', () => {
  const index = indexPauses([
    { campaignId: campaign, provider: 'yahoo', pool: '' },
    { campaignId: campaign, provider: '', pool: 'shared' },
    // A whole-campaign pause is the dispatch loop's to honour, not the relay's.
    { campaignId: 'c0ffee00-0000-4000-8000-000000000002', provider: '', pool: '' },
  ]);

  it.each([
    ['the paused provider, by the shared provider table', 'ymail.com', 'dedicated', 'yahoo'],
    ['any provider of the paused pool', 'gmail.com', 'shared', ''],
    ['a provider domain in another case', 'Yahoo.FR', 'dedicated', 'yahoo'],
  ])('holds %s', (_, domain, pool, provider) => {
    expect(
      holdingPause(index, { campaignId: campaign.toLowerCase(), recipientDomain: domain, pool }),
    ).toMatchObject({ provider });
  });

  it.each([
    ['another provider of the campaign', campaign, 'gmail.com', 'dedicated'],
    ['another campaign', 'c0ffee00-0000-4000-8000-000000000003', 'yahoo.com', 'shared'],
    ['a whole-campaign pause', 'c0ffee00-0000-4000-8000-000000000002', 'yahoo.com', 'shared'],
    ['transactional mail (no campaign)', undefined, 'yahoo.com', 'shared'],
  ])('lets %s through', (_, campaignId, domain, pool) => {
    expect(holdingPause(index, { campaignId, recipientDomain: domain, pool })).toBeUndefined();
  });
});
