import { describe, expect, it } from 'vitest';
import type { ParsedReport, ReportVerdict } from '@relais/bounces';
import type { CampaignId, ContactId, MessageId, TenantId } from '@relais/domain';
import type { BouncedMessage } from '../ports';
import { decideReport, reportMessageRefs } from './report-verdict';

const message: BouncedMessage = {
  id: '0190a0b0-0000-4000-8000-000000000001' as MessageId,
  tenantId: '0190a0b0-0000-4000-8000-0000000000aa' as TenantId,
  campaignId: '0190a0b0-0000-4000-8000-0000000000cc' as CampaignId,
  contactId: '0190a0b0-0000-4000-8000-0000000000dd' as ContactId,
  email: 'Ghost@example.org',
};
const other = '0190a0b0-0000-4000-8000-000000000002' as MessageId;
const third = '0190a0b0-0000-4000-8000-000000000003' as MessageId;
const REPORT_ID = '0190a0b0-0000-4000-8000-0000000000ee';

// A fake VERP: `b-<message id>@bounces.test` opens, anything else does not.
const openVerp = (address: string) =>
  /^b-([0-9a-f-]{36})@bounces\.test$/.exec(address)?.[1] as MessageId | undefined;

function bounce(
  recipients: Array<{ address: string; action?: string; diagnostic?: string }>,
  verdicts: Array<{ reason: string; hard: boolean; status?: string }>,
): [ParsedReport, ReportVerdict] {
  return [
    { kind: 'bounce', recipients },
    {
      kind: 'bounce',
      recipients: verdicts.map((v, i) => ({
        address: recipients[i]?.address ?? '',
        reason: v.reason,
        hard: v.hard,
        status: v.status ?? null,
        replyCode: v.hard ? 550 : 452,
        confidence: 0.9,
      })),
    },
  ];
}

describe('reportMessageRefs', () => {
  it('puts the VERP recipient first, then the returned Return-Path, then the Message-ID', () => {
    const parsed: ParsedReport = {
      kind: 'bounce',
      recipients: [],
      originalEnvelopeFrom: `b-${other}@bounces.test`,
      originalMessageId: `<${third.toUpperCase()}@mail.relais.test>`,
    };
    expect(reportMessageRefs(message.id, parsed, openVerp)).toEqual([
      { messageId: message.id, via: 'verp' },
      { messageId: other, via: 'return-path' },
      { messageId: third, via: 'message-id' },
    ]);
  });

  it('reads the ARF Original-Mail-From of a complaint sent to the feedback address', () => {
    const parsed: ParsedReport = {
      kind: 'feedback',
      recipients: [],
      feedback: {
        feedbackType: 'abuse',
        originalMailFrom: `<b-${other}@bounces.test>`,
        reportedDomains: [],
        reportedUris: [],
        authenticationResults: [],
      },
    };
    expect(reportMessageRefs(null, parsed, openVerp)).toEqual([
      { messageId: other, via: 'return-path' },
    ]);
  });

  it('ignores a Return-Path that is not ours and a Message-ID that is not a message uuid', () => {
    const parsed: ParsedReport = {
      kind: 'bounce',
      recipients: [],
      originalEnvelopeFrom: 'b-forged@bounces.test',
      originalMessageId: '<20261127.abc@elsewhere.example>',
    };
    expect(reportMessageRefs(null, parsed, openVerp)).toEqual([]);
  });

  it('names a message once when several references agree', () => {
    const parsed: ParsedReport = {
      kind: 'bounce',
      recipients: [],
      originalEnvelopeFrom: `b-${message.id}@bounces.test`,
      originalMessageId: `<${message.id}@mail.relais.test>`,
    };
    expect(reportMessageRefs(message.id, parsed, openVerp)).toEqual([
      { messageId: message.id, via: 'verp' },
    ]);
  });
});

describe('decideReport', () => {
  it('records a hard DSN bounce under the report id and suppresses the address', () => {
    const [parsed, verdict] = bounce(
      [{ address: 'ghost@example.org', action: 'failed', diagnostic: '550 5.1.1 unknown' }],
      [{ reason: 'userunknown', hard: true, status: '5.1.1' }],
    );
    const decision = decideReport(REPORT_ID, parsed, verdict, message);
    expect(decision).toEqual({
      kind: 'bounce',
      record: {
        id: REPORT_ID,
        tenantId: message.tenantId,
        messageId: message.id,
        campaignId: message.campaignId,
        email: message.email,
        source: 'dsn',
        reason: 'userunknown',
        hard: true,
        confidence: 0.9,
        status: '5.1.1',
        replyCode: 550,
        diagnostic: '550 5.1.1 unknown',
      },
      suppression: {
        tenantId: message.tenantId,
        email: message.email,
        reason: 'hard bounce: userunknown 5.1.1',
        class: 'userunknown',
        confidence: 0.9,
        traceparent: null,
      },
    });
  });

  it('records a soft DSN bounce without a suppression', () => {
    const [parsed, verdict] = bounce(
      [{ address: 'ghost@example.org' }],
      [{ reason: 'mailboxfull', hard: false }],
    );
    const decision = decideReport(REPORT_ID, parsed, verdict, message);
    expect(decision).toMatchObject({ kind: 'bounce', record: { reason: 'mailboxfull' } });
    expect(decision).not.toHaveProperty('suppression');
  });

  it('takes the recipient that is the message’s address when a DSN lists several', () => {
    const [parsed, verdict] = bounce(
      [{ address: 'someone@example.org' }, { address: 'ghost@example.org' }],
      [
        { reason: 'mailboxfull', hard: false },
        { reason: 'userunknown', hard: true },
      ],
    );
    expect(decideReport(REPORT_ID, parsed, verdict, message)).toMatchObject({
      record: { reason: 'userunknown', hard: true },
    });
  });

  it('treats a DSN whose recipients are only delayed as a warning, not a bounce', () => {
    const [parsed, verdict] = bounce(
      [{ address: 'ghost@example.org', action: 'delayed' }],
      [{ reason: 'mailboxfull', hard: false }],
    );
    expect(decideReport(REPORT_ID, parsed, verdict, message)).toEqual({ kind: 'delay_notice' });
  });

  it('maps a reason outside the taxonomy to undefined and keeps it soft when no recipient was read', () => {
    const [parsed, verdict] = bounce([], []);
    expect(decideReport(REPORT_ID, parsed, verdict, message)).toMatchObject({
      kind: 'bounce',
      record: { reason: 'undefined', hard: false, confidence: 0 },
    });
  });

  it('turns a feedback report about our message into a complaint with its type and user agent', () => {
    const parsed: ParsedReport = {
      kind: 'feedback',
      recipients: [],
      feedback: {
        feedbackType: 'abuse',
        userAgent: 'ExampleFBL/1.0',
        reportedDomains: [],
        reportedUris: [],
        authenticationResults: [],
      },
    };
    expect(decideReport(REPORT_ID, parsed, { kind: 'feedback', recipients: [] }, message)).toEqual({
      kind: 'complaint',
      message,
      feedbackType: 'abuse',
      userAgent: 'ExampleFBL/1.0',
    });
  });

  it('leaves bounces and complaints that name no message of ours unmatched', () => {
    const [parsed, verdict] = bounce([{ address: 'x@example.org' }], [{ reason: 'x', hard: true }]);
    expect(decideReport(REPORT_ID, parsed, verdict, undefined)).toMatchObject({
      kind: 'unmatched',
    });
    expect(
      decideReport(
        REPORT_ID,
        { kind: 'feedback', recipients: [] },
        { kind: 'feedback', recipients: [] },
        undefined,
      ),
    ).toMatchObject({ kind: 'unmatched' });
  });

  it('records auto-replies as such, and anything else as other with the parser’s reason', () => {
    const none: ReportVerdict = { kind: 'other', recipients: [] };
    expect(decideReport(REPORT_ID, { kind: 'autoreply', recipients: [] }, none, message)).toEqual({
      kind: 'autoreply',
    });
    expect(
      decideReport(
        REPORT_ID,
        { kind: 'other', reason: 'empty message', recipients: [] },
        none,
        message,
      ),
    ).toEqual({ kind: 'other', reason: 'empty message' });
  });
});
