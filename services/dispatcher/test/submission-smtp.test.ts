import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { createTransport } from 'nodemailer';
import type { TenantId } from '@relais/domain';
import { parseVerp } from '@relais/mail';
import { createDkimKeyStore } from '@relais/simulator';
import { BOUNCE_SECRET } from './fixtures';
import {
  authenticated,
  kernels,
  LIMITS,
  plain,
  rawSmtp,
  startRig,
  submittedRows,
  tenantWithKey,
  waitFor,
  type SubmissionRig,
} from './submission-fixtures';

const SMUGGLING = [
  ['<LF>.<LF>', '\n.\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<LF>.<CR><LF>', '\n.\r\n'],
  ['<CR><LF>.<LF>', '\r\n.\n'],
] as const;

describe.each(kernels)('SMTP submission on the $name platform', (kernel) => {
  let rig: SubmissionRig;
  beforeAll(async () => {
    rig = await startRig(kernel);
  });
  afterAll(() => rig.stop());

  const relayedFor = (tenantId: TenantId) =>
    rig.relayed.filter((envelope) => envelope.tenantId === tenantId);

  it('accepts a message over STARTTLS + AUTH, records it and puts signed copies on the transactional lane', async () => {
    const { tenantId, key } = await tenantWithKey(rig.platform.store);
    const transport = createTransport({
      host: '127.0.0.1',
      port: rig.smtpPort,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'api', pass: key },
    });
    const info = await transport.sendMail({
      from: 'Shop <shop@sender.test>',
      to: ['ana@example.test', 'bo@example.test'],
      subject: 'Your receipt',
      text: 'Thank you.',
    });
    transport.close();
    expect(info.response).toMatch(/^250 2\.0\.0 OK queued as [0-9a-f-]{36}$/);
    const submissionId = info.response.slice(-36);

    // 250 came after the confirms: the copies are on the queue already or about to be consumed.
    await waitFor(() => relayedFor(tenantId).length === 2);
    const rows = await submittedRows(rig.platform.store, tenantId);
    expect(rows.map((row) => [row.email, row.state, row.submission_id, row.campaign_id])).toEqual([
      ['ana@example.test', 'queued', submissionId, null],
      ['bo@example.test', 'queued', submissionId, null],
    ]);
    const keys = createDkimKeyStore(rig.handle.dkimPublicKeys);
    for (const envelope of relayedFor(tenantId)) {
      expect(envelope.data.messageClass).toBe('transactional');
      expect(envelope.data.campaignId).toBeUndefined();
      expect(rows.map((row) => row.id)).toContain(envelope.data.messageId);
      expect(parseVerp(envelope.data.mailFrom, BOUNCE_SECRET)).toEqual({
        ok: true,
        messageId: envelope.data.messageId,
      });
      const raw = Buffer.from(envelope.data.rawBase64, 'base64');
      const verdict = await dkimVerify(raw, { resolver: keys.resolver });
      expect(verdict.results.map((result) => result.status.result)).toEqual(['pass', 'pass']);
      const text = raw.toString('latin1');
      expect(text).toMatch(
        new RegExp(`^Feedback-ID: submission:${tenantId}:transactional:relais$`, 'm'),
      );
      expect(text).not.toMatch(/^List-Unsubscribe/m);
    }
  });

  it('refuses AUTH before STARTTLS with 538, and MAIL without AUTH', async () => {
    const { key } = await tenantWithKey(rig.platform.store);
    const smtp = await rawSmtp(rig.smtpPort);
    await smtp.reply();
    const ehlo = await smtp.command('EHLO client.example.net');
    expect(ehlo).toContain('STARTTLS');
    expect(await smtp.command(`AUTH PLAIN ${plain(key)}`)).toMatch(/^538 /);
    expect(await smtp.command('MAIL FROM:<shop@sender.test>')).toMatch(/^530 /);
    smtp.end();
  });

  it('refuses a key that is not a relais API key, or a revoked one, with 535 5.7.8', async () => {
    const smtp = await rawSmtp(rig.smtpPort);
    await smtp.reply();
    await smtp.command('EHLO client.example.net');
    await smtp.startTls();
    const bad = await smtp.command(`AUTH PLAIN ${plain('rls_aaaaaaaaaaaa_' + 'x'.repeat(43))}`);
    expect(bad).toBe(
      '535 5.7.8 authentication failed: the password must be a valid relais API key',
    );
    const { key } = await tenantWithKey(rig.platform.store);
    await rig.platform.store.query(`UPDATE api_keys SET revoked_at = now() WHERE prefix = $1`, [
      key.split('_')[1],
    ]);
    expect(await smtp.command(`AUTH PLAIN ${plain(key)}`)).toMatch(/^535 5\.7\.8 /);
    smtp.end();
  });

  it.each(SMUGGLING)(
    'refuses a message smuggling a second one with %s and sends nothing',
    async (_name, separator) => {
      const { tenantId, key } = await tenantWithKey(rig.platform.store);
      const smtp = await authenticated(rig.smtpPort, key);
      expect(await smtp.command('MAIL FROM:<shop@sender.test>')).toMatch(/^250/);
      expect(await smtp.command('RCPT TO:<ana@example.test>')).toMatch(/^250/);
      expect(await smtp.command('DATA')).toMatch(/^354/);
      smtp.write(
        'From: shop@sender.test\r\nSubject: first\r\n\r\nhello' +
          separator +
          'MAIL FROM:<ceo@sender.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n' +
          'From: ceo@sender.test\r\nSubject: smuggled\r\n\r\npay now\r\n.\r\n',
      );
      expect(await smtp.reply()).toBe(
        '554 5.6.0 bare CR or LF in message; every line must end with CRLF. Nothing was sent',
      );
      // The session goes on: the next command is a command, not a smuggled message's tail.
      expect(await smtp.command('NOOP')).toMatch(/^250/);
      smtp.end();
      expect(await submittedRows(rig.platform.store, tenantId)).toEqual([]);
      expect(relayedFor(tenantId)).toEqual([]);
    },
  );

  it('refuses a message over the size limit with 552 5.3.4', async () => {
    const { tenantId, key } = await tenantWithKey(rig.platform.store);
    const smtp = await authenticated(rig.smtpPort, key);
    await smtp.command('MAIL FROM:<shop@sender.test>');
    await smtp.command('RCPT TO:<ana@example.test>');
    await smtp.command('DATA');
    const line = `${'x'.repeat(76)}\r\n`;
    smtp.write(`From: shop@sender.test\r\n\r\n${line.repeat(LIMITS.maxMessageBytes / 70)}.\r\n`);
    expect(await smtp.reply()).toMatch(/^552 5\.3\.4 message exceeds the limit of 8192 bytes/);
    smtp.end();
    expect(await submittedRows(rig.platform.store, tenantId)).toEqual([]);
  });

  it('refuses recipients past the limit with 452 4.5.3', async () => {
    const { key } = await tenantWithKey(rig.platform.store);
    const smtp = await authenticated(rig.smtpPort, key);
    await smtp.command('MAIL FROM:<shop@sender.test>');
    for (let n = 0; n < LIMITS.maxRecipients; n += 1) {
      expect(await smtp.command(`RCPT TO:<r${n}@example.test>`)).toMatch(/^250/);
    }
    expect(await smtp.command('RCPT TO:<one-more@example.test>')).toBe(
      '452 4.5.3 at most 3 recipients per message',
    );
    smtp.end();
  });

  it("refuses a key's messages past its rate limit with 451 4.7.0, other keys unaffected", async () => {
    const { key } = await tenantWithKey(rig.platform.store);
    const smtp = await authenticated(rig.smtpPort, key);
    for (let n = 0; n < LIMITS.burst; n += 1) {
      expect(await smtp.command('MAIL FROM:<shop@sender.test>')).toMatch(/^250/);
      expect(await smtp.command('RSET')).toMatch(/^250/);
    }
    expect(await smtp.command('MAIL FROM:<shop@sender.test>')).toMatch(
      /^451 4\.7\.0 rate limit of this API key exceeded; retry in \d+ s$/,
    );
    smtp.end();
    const other = await tenantWithKey(rig.platform.store);
    const fresh = await authenticated(rig.smtpPort, other.key);
    expect(await fresh.command('MAIL FROM:<shop@sender.test>')).toMatch(/^250/);
    fresh.end();
  });
});
