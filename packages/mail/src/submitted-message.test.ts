import { describe, expect, it } from 'vitest';
import { prepareSubmittedMessage } from './submitted-message';

const SUBMISSION = '0b8f8a2e-5c1d-4f7a-9e3b-2d6c1a4f8e90';
const DATE = new Date('2026-06-01T09:30:00Z');

function prepare(header: string, body = 'Hello.\r\n') {
  return prepareSubmittedMessage({
    raw: Buffer.from(`${header}\r\n\r\n${body}`, 'latin1'),
    submissionId: SUBMISSION,
    sendingDomain: 'mail.sender.test',
    feedbackId: {
      campaignId: 'receipts',
      tenantId: 't1',
      mailClass: 'transactional',
      senderId: 'relais',
    },
    date: DATE,
  });
}

describe('prepareSubmittedMessage', () => {
  it('adds Message-ID, Date and Feedback-ID and drops Return-Path, Bcc and a foreign Feedback-ID', () => {
    const prepared = prepare(
      'Return-Path: <x@y.test>\r\nFrom: "Shop" <shop@sender.test>\r\nTo: a@example.test\r\nBcc: hidden@example.test\r\nFeedback-ID: forged:1:2:3\r\nSubject: Receipt',
    );
    const text = prepared.raw.toString('latin1');
    expect(prepared.fromAddress).toBe('shop@sender.test');
    expect(prepared.messageIdHeader).toBe(`<${SUBMISSION}@mail.sender.test>`);
    expect(text).toBe(
      `From: "Shop" <shop@sender.test>\r\nTo: a@example.test\r\nSubject: Receipt\r\nMessage-ID: <${SUBMISSION}@mail.sender.test>\r\nDate: Mon, 01 Jun 2026 09:30:00 +0000\r\nFeedback-ID: receipts:t1:transactional:relais\r\n\r\nHello.\r\n`,
    );
  });

  it("keeps the submitter's Message-ID and Date and folded fields as they were", () => {
    const prepared = prepare(
      'From: shop@sender.test\r\nMessage-ID: <own@shop.test>\r\nDate: Sun, 31 May 2026 10:00:00 +0000\r\nSubject: a\r\n  folded',
    );
    expect(prepared.messageIdHeader).toBe('<own@shop.test>');
    expect(prepared.raw.toString('latin1')).toContain('Subject: a\r\n  folded\r\n');
    expect(prepared.raw.toString('latin1').match(/^Date:/gm)).toHaveLength(1);
  });

  it.each([
    ['no From', 'To: a@example.test', 'no From'],
    ['two From fields', 'From: a@sender.test\r\nFrom: b@sender.test', 'more than one from'],
    ['two mailboxes in From', 'From: a@sender.test, b@sender.test', 'From is not a single'],
    ['a continuation first', ' From: a@sender.test', 'continuation'],
    ['a line that is not a field', 'From: a@sender.test\r\nnot a field', 'not a field'],
  ])('refuses a message with %s', (_name, header, reason) => {
    expect(() => prepare(header)).toThrow(reason);
  });

  it('refuses a message without a header/body separator', () => {
    expect(() =>
      prepareSubmittedMessage({
        raw: Buffer.from('From: a@sender.test\r\n'),
        submissionId: SUBMISSION,
        sendingDomain: 'mail.sender.test',
        date: DATE,
      }),
    ).toThrow('no empty line');
  });

  it('refuses a body line over 998 octets', () => {
    expect(() => prepare('From: a@sender.test', `${'x'.repeat(999)}\r\n`)).toThrow('998');
  });
});
