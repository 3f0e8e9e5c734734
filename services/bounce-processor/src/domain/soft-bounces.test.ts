import { describe, expect, it } from 'vitest';
import type { CampaignId, MessageId, TenantId } from '@relais/domain';
import type { BounceRecord } from '../ports';
import { repeatedSoftBounceSuppression } from './soft-bounces';

const record: BounceRecord = {
  id: '0190a0b0-0000-4000-8000-0000000000ee',
  tenantId: '0190a0b0-0000-4000-8000-0000000000aa' as TenantId,
  messageId: '0190a0b0-0000-4000-8000-000000000001' as MessageId,
  campaignId: '0190a0b0-0000-4000-8000-0000000000cc' as CampaignId,
  email: 'full@example.org',
  source: 'dsn',
  reason: 'mailboxfull',
  hard: false,
  confidence: 0.8,
  status: '4.2.2',
  replyCode: 452,
  diagnostic: 'mailbox full',
};
const policy = { threshold: 3, windowMs: 7 * 86_400_000 };

describe('repeatedSoftBounceSuppression', () => {
  it('suppresses when the soft bounces in the window reach the threshold', () => {
    expect(repeatedSoftBounceSuppression(record, 3, policy, '00-trace')).toEqual({
      tenantId: record.tenantId,
      email: 'full@example.org',
      reason: 'soft_bounce_repeated',
      class: 'soft_bounce_repeated',
      confidence: 0.8,
      traceparent: '00-trace',
    });
  });

  it('does nothing below the threshold', () => {
    expect(repeatedSoftBounceSuppression(record, 2, policy, null)).toBeUndefined();
  });

  it('does nothing when the policy is off (threshold 0)', () => {
    expect(
      repeatedSoftBounceSuppression(record, 50, { ...policy, threshold: 0 }, null),
    ).toBeUndefined();
  });

  it('leaves hard bounces to the hard-bounce rule', () => {
    expect(
      repeatedSoftBounceSuppression({ ...record, hard: true }, 5, policy, null),
    ).toBeUndefined();
  });
});
