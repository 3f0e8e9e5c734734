import { describe, expect, it } from 'vitest';
import { checkVariants, transition, type CampaignAction, type CampaignStatus } from './lifecycle';

const now = new Date('2026-11-27T10:00:00Z');
const later = new Date('2026-11-28T10:00:00Z');
const ctx = { now, scheduledAt: null, recipientsResolved: false };

describe('campaign lifecycle', () => {
  it('launches a draft now and announces it', () => {
    expect(transition('draft', 'launch', ctx)).toEqual({
      status: 'launched',
      event: 'campaign.launched',
    });
  });

  it('schedules a draft with a future time without announcing yet', () => {
    expect(transition('draft', 'launch', { ...ctx, scheduledAt: later })).toEqual({
      status: 'scheduled',
      event: null,
    });
  });

  it('resumes into sending when recipients exist, and relaunches when they do not', () => {
    expect(transition('paused', 'resume', { ...ctx, recipientsResolved: true })).toEqual({
      status: 'sending',
      event: 'campaign.resumed',
    });
    expect(transition('paused', 'resume', ctx)).toEqual({
      status: 'launched',
      event: 'campaign.launched',
    });
  });

  it.each<[CampaignStatus, CampaignAction]>([
    ['sending', 'launch'],
    ['draft', 'pause'],
    ['sending', 'resume'],
    ['completed', 'cancel'],
    ['cancelled', 'cancel'],
    ['cancelled', 'resume'],
  ])('refuses %s → %s with STATE_CONFLICT', (status, action) => {
    expect(() => transition(status, action, ctx)).toThrow(
      expect.objectContaining({ code: 'STATE_CONFLICT' }),
    );
  });
});

describe('variant weights', () => {
  it('accepts shares that add up to 100', () => {
    expect(() =>
      checkVariants([
        { name: 'A', templateId: 't', weight: 33.33 },
        { name: 'B', templateId: 't', weight: 33.33 },
        { name: 'C', templateId: 't', weight: 33.34 },
      ]),
    ).not.toThrow();
  });

  it('points at the variants when shares do not add up', () => {
    expect(() => checkVariants([{ name: 'A', templateId: 't', weight: 60 }])).toThrow(
      expect.objectContaining({ details: { pointer: '/variants' } }),
    );
  });

  it('points at a duplicated variant name', () => {
    expect(() =>
      checkVariants([
        { name: 'A', templateId: 't', weight: 50 },
        { name: 'A', templateId: 't', weight: 50 },
      ]),
    ).toThrow(expect.objectContaining({ details: { pointer: '/variants/1/name' } }));
  });
});
