import { describe, expect, it } from 'vitest';
import {
  createEnvelope,
  type CampaignId,
  type ContactId,
  type MessageId,
  type TenantId,
} from '@relais/domain';
import type { BouncedMessage } from '../ports';
import { MAX_DIAGNOSTIC_CHARS, bounceVerdict } from './bounce-verdict';

const campaignId = '0190a0b0-0000-7000-8000-0000000000cc' as CampaignId;
const message: BouncedMessage = {
  id: '0190a0b0-0000-7000-8000-000000000001' as MessageId,
  tenantId: '0190a0b0-0000-7000-8000-0000000000aa' as TenantId,
  campaignId,
  contactId: '0190a0b0-0000-7000-8000-0000000000dd' as ContactId,
  email: 'ghost@example.org',
};

function bounced(
  reply: { code?: number; enhanced?: string; text: string } | undefined,
  hard = false,
) {
  return createEnvelope({
    type: 'delivery.bounced',
    tenantId: message.tenantId,
    data: {
      messageId: message.id,
      campaignId,
      recipientDomain: 'example.org',
      pool: 'default',
      attempt: 1,
      ...(reply === undefined ? {} : { reply }),
      reason: 'relay-said-so',
      hard,
      confidence: 0.5,
    },
  });
}

describe('bounceVerdict', () => {
  it('records a hard bounce and asks to suppress the address with reason and status', () => {
    const envelope = bounced({ code: 550, enhanced: '5.1.1', text: '550 5.1.1 user unknown' });
    const verdict = bounceVerdict(envelope, message);
    expect(verdict.record).toEqual({
      id: envelope.id,
      tenantId: message.tenantId,
      messageId: message.id,
      campaignId: message.campaignId,
      email: 'ghost@example.org',
      source: 'smtp',
      reason: 'userunknown',
      hard: true,
      confidence: 0.95,
      status: '5.1.1',
      replyCode: 550,
      diagnostic: '550 5.1.1 user unknown',
    });
    expect(verdict.suppression).toEqual({
      tenantId: message.tenantId,
      email: 'ghost@example.org',
      reason: 'hard bounce: userunknown 5.1.1',
      class: 'userunknown',
      confidence: 0.95,
      traceparent: null,
    });
  });

  it('overrules the relay: a bounce the event calls hard is soft when the reply says so', () => {
    const verdict = bounceVerdict(
      bounced({ code: 552, enhanced: '5.2.2', text: '552 5.2.2 mailbox full' }, true),
      message,
    );
    expect(verdict.record).toMatchObject({ reason: 'mailboxfull', hard: false });
    expect(verdict.suppression).toBeUndefined();
  });

  it('omits the status from the suppression reason when the reply had none', () => {
    const verdict = bounceVerdict(bounced({ code: 550, text: '550 No such user here' }), message);
    expect(verdict.record.status).toBeNull();
    expect(verdict.suppression?.reason).toBe('hard bounce: userunknown');
  });

  it('clips the diagnostic to what the table keeps', () => {
    const text = `554 5.7.1 ${'x'.repeat(1500)}`;
    const verdict = bounceVerdict(bounced({ code: 554, text }), message);
    expect(verdict.record.diagnostic).toHaveLength(MAX_DIAGNOSTIC_CHARS);
    expect(verdict.record.diagnostic).toBe(text.slice(0, MAX_DIAGNOSTIC_CHARS));
  });

  it('classifies the event reason when the event carries no reply', () => {
    const verdict = bounceVerdict(bounced(undefined, true), message);
    expect(verdict.record).toMatchObject({ reason: 'undefined', hard: false, replyCode: null });
    expect(verdict.suppression).toBeUndefined();
  });
});
