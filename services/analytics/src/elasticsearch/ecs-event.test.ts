import { describe, expect, it } from 'vitest';
import { createEnvelope, type MessageInput, type MessageType, type TenantId } from '@relais/domain';
import { toEcsDoc } from './ecs-event';

const tenantId = '4d7f0b8e-2c1a-4e5f-9a0b-1c2d3e4f5a6b' as TenantId;
const messageId = '7b0c3f4e-8e0a-4c1e-9a53-1f2d3c4b5a69';
const campaignId = '0190f3a8-5b1e-7c2a-9d4e-1f2a3b4c5d6e';
const contactId = '0190f3a8-0000-7000-8000-000000000001';
const doc = <T extends MessageType>(type: T, data: MessageInput<T>) =>
  toEcsDoc(createEnvelope({ type, tenantId, data }));

describe('ECS documents', () => {
  it('marks delivery outcomes success, unknown and failure with the bounce class', () => {
    const base = {
      messageId,
      campaignId,
      recipientDomain: 'Orange.fr',
      pool: 'bulk-a',
      attempt: 2,
    };
    expect(doc('delivery.delivered', base as never)?.event.outcome).toBe('success');
    const deferred = doc('delivery.deferred', {
      ...base,
      retryAt: '2026-11-27T10:00:00.000Z',
      reason: '421 4.7.0 too many connections',
      reply: { code: 421, text: 'too many connections from 192.0.2.1' },
    });
    expect(deferred).toMatchObject({
      event: { outcome: 'unknown', reason: '421 4.7.0 too many connections' },
      relais: { provider: 'orange', retry_at: '2026-11-27T10:00:00.000Z', reply: { code: 421 } },
    });
    // The reply text stays out: the reason says it, and it may quote the recipient.
    expect(deferred?.relais['reply']).toEqual({ code: 421 });
    const bounced = doc('delivery.bounced', {
      ...base,
      recipientDomain: 'orange.fr',
      reason: 'userunknown',
      hard: true,
      confidence: 0.97,
    });
    expect(bounced).toMatchObject({
      event: { outcome: 'failure', reason: 'userunknown' },
      relais: { provider: 'orange', bounce: { hard: true, confidence: 0.97 } },
    });
  });

  it('never carries a full address', () => {
    const docs = [
      doc('suppression.added', { email: 'jane.doe@example.org', reason: 'hard bounce' }),
      doc('complaint.received', {
        messageId,
        campaignId,
        contactId,
        feedbackType: 'abuse',
        userAgent: 'Yahoo!-Mail-Feedback/2.0',
      }),
      doc('engagement.unsubscribed', { messageId, contactId }),
    ];
    expect(docs[0]).toMatchObject({ email: { to: { domain: 'example.org' } } });
    expect(docs[1]).toMatchObject({
      user_agent: { original: 'Yahoo!-Mail-Feedback/2.0' },
      relais: { feedback_type: 'abuse' },
    });
    for (const d of docs) expect(JSON.stringify(d)).not.toContain('jane.doe');
  });

  it('describes conversions and campaign life, and ships no command', () => {
    expect(
      doc('engagement.converted', {
        conversionId: contactId,
        messageId,
        attribution: 'click',
        amount: 49.9,
        currency: 'EUR',
        occurredAt: '2026-11-27T12:00:00.000Z',
      } as never),
    ).toMatchObject({
      relais: { amount: 49.9, currency: 'EUR', attribution: 'click', conversion_id: contactId },
    });
    expect(doc('campaign.completed', { campaignId })).toMatchObject({
      event: { action: 'campaign.completed', category: ['configuration'], type: ['end'] },
      relais: { campaign_id: campaignId },
    });
    expect(
      toEcsDoc(createEnvelope({ type: 'campaign.resumed', tenantId, data: { campaignId } })),
    ).toBeDefined();
    expect(
      toEcsDoc({
        ...createEnvelope({ type: 'campaign.resumed', tenantId, data: { campaignId } }),
        type: 'outbound.send',
      } as never),
    ).toBeUndefined();
  });
});
