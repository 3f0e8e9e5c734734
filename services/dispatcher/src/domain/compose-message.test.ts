import { generateKeyPairSync } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import { describe, expect, it } from 'vitest';
import type { TenantId } from '@relais/domain';
import { createDkimSigner } from '@relais/mail';
import { compileTemplate } from '@relais/templates';
import { composeMessage, type CampaignInfo, type MailIdentity } from './compose-message';

const secret = 'a-test-secret-of-at-least-32-bytes!!';
const identity: MailIdentity = {
  sendingDomain: 'mail.sender.test',
  bounce: { domain: 'bounces.sender.test', secret },
  unsubscribe: { baseUrl: 'https://u.sender.test', secret },
  feedbackSenderId: 'relais',
  signers: [
    createDkimSigner({
      domain: 'sender.test',
      selector: 'ed1',
      algorithm: 'ed25519-sha256',
      privateKeyPem: generateKeyPairSync('ed25519')
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    }),
  ],
};
const campaign: CampaignInfo = {
  id: '0190f3c2-0000-7000-8000-000000000001',
  tenantId: '0190f3c2-0000-7000-8000-000000000002' as TenantId,
  name: 'Spring sale',
  status: 'sending',
  messageClass: 'marketing',
  fromEmail: 'news@sender.test',
  fromName: 'Sender News',
  replyTo: 'help@sender.test',
};
// Personalization reaches the subject and both bodies; the subject is the header at risk.
const template = compileTemplate({
  subject: 'Hi {{ contact.first_name }} from {{ campaign.name }}',
  html: '<p>Hi {{ contact.first_name }}</p>',
  text: 'Hi {{ contact.first_name }}, {{ contact.email }}',
});
const now = new Date('2026-06-01T09:30:00Z');
const messageId = '0190f3c2-7b1e-7c3a-9d4e-1f2a3b4c5d6e';

function compose(attributes: Record<string, unknown>, email = 'ana@example.test') {
  return composeMessage(campaign, template, { messageId, email, attributes }, identity, now);
}

async function parsed(attributes: Record<string, unknown>) {
  const outcome = await compose(attributes);
  if (!outcome.ok) throw outcome.error;
  return simpleParser(outcome.message.raw);
}

const addresses = (field: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(field) ? field : field === undefined ? [] : [field]).flatMap((object) =>
    object.value.map((entry) => entry.address),
  );

describe('composeMessage', () => {
  it('renders the recipient, the campaign and the envelope of one message', async () => {
    const outcome = await compose({ first_name: 'Ana' });
    expect(outcome.ok && outcome.message.rcptTo).toBe('ana@example.test');
    expect(outcome.ok && outcome.message.mailFrom).toMatch(
      /^b-[a-z2-7]{44}@bounces\.sender\.test$/,
    );
    const mail = await parsed({ first_name: 'Ana' });
    expect(mail.subject).toBe('Hi Ana from Spring sale');
    expect(mail.text?.trim()).toBe('Hi Ana, ana@example.test');
  });

  it.each([
    ['CRLF and a Bcc field', 'Ana\r\nBcc: evil@x.test'],
    ['a bare LF and a To field', 'Ana\nTo: evil@x.test'],
    ['NUL then CRLF', 'Ana\u0000\r\nCc: evil@x.test'],
    ['an empty line that would start the body', 'Ana\r\n\r\nFake body'],
    ['an encoded-word that decodes to CRLF Bcc', '=?utf-8?b?DQpCY2M6IGV2aWxAeC50ZXN0?='],
    ['an encoded-word in Q form', '=?utf-8?q?=0D=0ABcc:_evil@x.test?='],
    ['Unicode line separators', 'Ana\u2028Cc: evil@x.test\u0085Bcc: evil@x.test'],
  ])('adds no header and no recipient for an attribute with %s', async (_, hostile) => {
    const expected = await parsed({ first_name: 'Ana' });
    const mail = await parsed({ first_name: hostile, email: 'evil@x.test' });

    expect([...mail.headers.keys()].sort()).toEqual([...expected.headers.keys()].sort());
    expect(addresses(mail.to)).toEqual(['ana@example.test']);
    expect(mail.cc).toBeUndefined();
    expect(mail.bcc).toBeUndefined();
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).not.toContain('\u0000');
    expect(mail.subject).not.toContain('\r\nBcc');
    // The attribute named `email` never replaces the address either.
    expect(mail.text).toContain('ana@example.test');
  });

  it('fails the build, not the process, for an address that is not one plain mailbox', async () => {
    for (const email of ['a@x.test, evil@x.test', 'ana@x.test\r\nBcc: evil@x.test', '<a@x.test>']) {
      expect(await compose({}, email)).toMatchObject({
        ok: false,
        stage: 'build',
        error: { code: 'VALIDATION_FAILED' },
      });
    }
  });

  it('fails the render for a recipient whose data makes the template break a limit', async () => {
    const greedy = compileTemplate({
      subject: 'Hi',
      text: '{% for i in (1..contact.n) %}{{ i }}{% endfor %}',
    });
    const outcome = await composeMessage(
      campaign,
      greedy,
      { messageId, email: 'ana@example.test', attributes: { n: 100_000_000 } },
      identity,
      now,
    );
    expect(outcome).toMatchObject({
      ok: false,
      stage: 'render',
      error: { code: 'VALIDATION_FAILED' },
    });
  });

  it('leaves List-Unsubscribe out of transactional mail', async () => {
    const outcome = await composeMessage(
      { ...campaign, messageClass: 'transactional' },
      template,
      { messageId, email: 'ana@example.test', attributes: {} },
      identity,
      now,
    );
    if (!outcome.ok) throw outcome.error;
    const mail = await simpleParser(outcome.message.raw);
    expect(mail.headers.has('list-unsubscribe')).toBe(false);
    expect(mail.headers.get('feedback-id')).toContain(':transactional:relais');
  });
});
