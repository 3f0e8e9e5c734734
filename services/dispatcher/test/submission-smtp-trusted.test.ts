import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantId } from '@relais/domain';
import { generate } from 'selfsigned';
import {
  createSubmissionSmtpListener,
  type SubmissionSmtpListener,
} from '../src/adapters/submission-smtp';
import { submissionSettingsSchema } from '../src/config';
import { createRateLimiter } from '../src/domain/token-bucket';
import type { Submission } from '../src/handlers/submit-message';
import { logger } from './fixtures';
import { rawSmtp } from './submission-fixtures';

// Trusted networks (Postfix mynetworks): a client inside them submits without STARTTLS or
// AUTH, its mail owned by the configured tenant; everyone else still needs AUTH. The use
// case is a recording fake.

const TRUSTED_TENANT = randomUUID() as TenantId;

async function listenerFor(trustedNetworks: string[], submitted: Submission[]) {
  const tls = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  const listener = createSubmissionSmtpListener({
    settings: submissionSettingsSchema.parse({ trustedNetworks, trustedTenant: TRUSTED_TENANT }),
    tls: { privateKey: tls.private, certificate: tls.cert, generated: true },
    authenticate: async () => ({ tenantId: randomUUID() as TenantId, apiKeyId: 'k' }),
    limiter: createRateLimiter({ perSecond: 100, burst: 100, now: () => Date.now() }),
    submit: async (submission) => {
      submitted.push(submission);
      return { submissionId: 'sub-1', messages: [], replayed: false };
    },
    logger,
  });
  return { listener, port: await listener.listen(0) };
}

async function submitWithoutAuth(port: number): Promise<string[]> {
  const smtp = await rawSmtp(port);
  await smtp.reply();
  await smtp.command('EHLO client.example.net');
  const replies = [
    await smtp.command('MAIL FROM:<shop@sender.test>'),
    await smtp.command('RCPT TO:<ana@example.test>'),
  ];
  if (replies[0]?.startsWith('250') === true) {
    await smtp.command('DATA');
    replies.push(await smtp.command('From: shop@sender.test\r\nSubject: hi\r\n\r\nhello\r\n.'));
  }
  smtp.end();
  return replies;
}

describe('SMTP submission from trusted networks', () => {
  const submitted: Submission[] = [];
  let trusting: SubmissionSmtpListener;
  let trustingPort: number;
  let elsewhere: SubmissionSmtpListener;
  let elsewherePort: number;

  beforeAll(async () => {
    ({ listener: trusting, port: trustingPort } = await listenerFor(['127.0.0.0/8'], submitted));
    ({ listener: elsewhere, port: elsewherePort } = await listenerFor(['10.0.0.0/8'], submitted));
  });
  afterAll(async () => {
    await trusting.close();
    await elsewhere.close();
  });

  it('takes mail from a trusted client without AUTH, for the trusted tenant', async () => {
    const replies = await submitWithoutAuth(trustingPort);
    expect(replies[0]).toMatch(/^250 /);
    expect(replies[2]).toBe('250 2.0.0 OK queued as sub-1');
    expect(submitted).toHaveLength(1);
    expect(submitted[0]).toMatchObject({
      tenantId: TRUSTED_TENANT,
      source: 'smtp',
      recipients: ['ana@example.test'],
    });
  });

  it('still asks AUTH of a client outside the trusted networks', async () => {
    const before = submitted.length;
    const replies = await submitWithoutAuth(elsewherePort);
    expect(replies[0]).toMatch(/^530 /);
    expect(submitted).toHaveLength(before);
  });

  it('refuses trusted networks without the tenant that owns their mail', () => {
    const parsed = submissionSettingsSchema.safeParse({ trustedNetworks: ['127.0.0.1'] });
    expect(parsed.success).toBe(false);
    expect(submissionSettingsSchema.safeParse({ trustedNetworks: ['nowhere'] }).success).toBe(
      false,
    );
  });
});
