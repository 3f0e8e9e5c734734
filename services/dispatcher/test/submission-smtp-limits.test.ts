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
import { authenticated, rawSmtp } from './submission-fixtures';

// The connection-level limits, on a listener whose use case is a recording fake: no store,
// no bus, only what smtp-server and the listener enforce themselves.
describe('SMTP submission connection limits', () => {
  let listener: SubmissionSmtpListener;
  let port: number;
  const submitted: Submission[] = [];

  beforeAll(async () => {
    const tls = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
    listener = createSubmissionSmtpListener({
      settings: submissionSettingsSchema.parse({
        smtp: { maxConnections: 2, socketTimeout: '1s', dataTimeout: '1s' },
      }),
      tls: { privateKey: tls.private, certificate: tls.cert, generated: true },
      authenticate: async () => ({ tenantId: randomUUID() as TenantId, apiKeyId: 'k' }),
      limiter: createRateLimiter({ perSecond: 100, burst: 100, now: () => Date.now() }),
      submit: async (submission) => {
        submitted.push(submission);
        return { submissionId: randomUUID(), messages: [], replayed: false };
      },
      logger,
    });
    port = await listener.listen(0);
  });
  afterAll(() => listener.close());

  it('closes an idle connection with 421', async () => {
    const smtp = await rawSmtp(port);
    await smtp.reply();
    expect(await smtp.reply()).toMatch(/^421 /);
  });

  it('cuts off a DATA phase that outlasts dataTimeout with 421 4.4.2 and submits nothing', async () => {
    const smtp = await authenticated(port, 'rls_any');
    await smtp.command('MAIL FROM:<shop@sender.test>');
    await smtp.command('RCPT TO:<ana@example.test>');
    expect(await smtp.command('DATA')).toMatch(/^354/);
    smtp.write('From: shop@sender.test\r\n');
    expect(await smtp.reply()).toBe('421 4.4.2 DATA took too long, closing');
    expect(submitted).toEqual([]);
  });

  it('refuses connections past maxConnections with 421', async () => {
    const first = await rawSmtp(port);
    const second = await rawSmtp(port);
    expect(await first.reply()).toMatch(/^220 /);
    expect(await second.reply()).toMatch(/^220 /);
    const third = await rawSmtp(port);
    expect(await third.reply()).toMatch(/^421 /);
    first.end();
    second.end();
    third.end();
  });
});
