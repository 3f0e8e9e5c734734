import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageId } from '@relais/domain';
import { verpAddress } from '@relais/mail';
import type { Store } from '@relais/store';
import { createInboundSmtpListener, type InboundSmtpListener } from '../src/adapters/inbound-smtp';
import { createSqlInboundStore } from '../src/adapters/sql-inbound-store';
import { inboundSettingsSchema } from '../src/config';
import type { InboundMailSink } from '../src/ports';
import { drivers, logger, openMigrated, seedMessage, seedTenant } from './fixtures';
import { greeted, type RawSmtp } from './smtp-client';

const SECRET = 'a-verp-secret-of-at-least-32-characters!';
const OTHER_SECRET = 'another-secret-that-relais-never-used-1234';
const BOUNCE_DOMAIN = 'bounces.example.com';
const FEEDBACK = 'fbl@bounces.example.com';

const settings = inboundSettingsSchema.parse({
  enabled: true,
  host: '127.0.0.1',
  port: 0,
  domains: [BOUNCE_DOMAIN],
  feedbackAddress: FEEDBACK,
  maxMessageBytes: 4096,
  maxRecipients: 3,
  dataTimeout: 1000,
});

const verpOf = (messageId: string, secret = SECRET) =>
  verpAddress({ messageId, bounceDomain: BOUNCE_DOMAIN, secret });

const dsn = (extra = '') =>
  [
    'From: MAILER-DAEMON@mx.example.org',
    `To: someone@${BOUNCE_DOMAIN}`,
    'Subject: Undelivered Mail Returned to Sender',
    extra,
    '',
    'The mail could not be delivered.',
    '',
  ]
    .filter((line, index) => index !== 3 || line !== '')
    .join('\r\n');

interface InboundRow {
  tenant_id: string | null;
  message_id: string | null;
  kind: string | null;
  rcpt_to: string;
  mail_from: string;
  raw: Uint8Array;
  processed_at: string | null;
}

async function rowsTo(store: Store, rcpt: string): Promise<InboundRow[]> {
  const { rows } = await store.query<InboundRow>(
    `SELECT tenant_id, message_id, kind, rcpt_to, mail_from, raw, processed_at
     FROM inbound_reports WHERE rcpt_to = $1 ORDER BY received_at`,
    [rcpt.toLowerCase()],
  );
  return rows;
}

/** MAIL FROM, RCPT TO, DATA, the body and its terminator: the replies of each step. */
async function send(
  smtp: RawSmtp,
  rcpt: string,
  body: string,
  mailFrom = '',
): Promise<{ mail: string; rcpt: string; data?: string; end?: string }> {
  const mail = await smtp.command(`MAIL FROM:<${mailFrom}>`);
  const rcptReply = await smtp.command(`RCPT TO:<${rcpt}>`);
  if (!rcptReply.startsWith('250')) return { mail, rcpt: rcptReply };
  const data = await smtp.command('DATA');
  smtp.write(body.endsWith('\r\n') ? `${body}.\r\n` : `${body}\r\n.\r\n`);
  return { mail, rcpt: rcptReply, data, end: await smtp.reply() };
}

describe.each(drivers)('inbound SMTP listener on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let listener: InboundSmtpListener;
  let port: number;
  const order: string[] = [];

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    const sql = createSqlInboundStore(store);
    const sink: InboundMailSink = {
      onMessage: async (mail) => {
        await sql.onMessage(mail);
        order.push(`stored ${mail.recipients[0]?.address ?? ''}`);
      },
    };
    listener = createInboundSmtpListener({ settings, secrets: SECRET, sink, logger });
    port = await listener.listen();
  });
  afterAll(async () => {
    await listener.close();
    await drop();
  });

  it('advertises the size limit and stores a bounce for a message relais sent, with its tenant, before the 250', async () => {
    const tenantId = await seedTenant(store);
    const { messageId } = await seedMessage(store, tenantId, 'ghost@example.org');
    const rcpt = verpOf(messageId);
    const { smtp, ehlo } = await greeted(port);
    expect(ehlo).toContain('SIZE 4096');

    const replies = await send(smtp, rcpt.toUpperCase(), dsn());
    order.push(`replied ${rcpt}`);
    expect(replies.rcpt).toMatch(/^250/);
    expect(replies.end).toMatch(/^250 2\.0\.0/);
    expect(order.filter((step) => step.endsWith(rcpt))).toEqual([
      `stored ${rcpt}`,
      `replied ${rcpt}`,
    ]);

    const rows = await rowsTo(store, rcpt);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      tenant_id: tenantId,
      message_id: messageId,
      kind: null,
      rcpt_to: rcpt,
      mail_from: '',
      processed_at: null,
    });
    expect(Buffer.from(rows[0]!.raw).toString('latin1')).toBe(dsn());
    expect((await smtp.command('QUIT')).startsWith('221')).toBe(true);
  });

  it('refuses forged, malformed and unknown addresses on the bounce domain at RCPT', async () => {
    const { smtp } = await greeted(port);
    const messageId = '0b7e2f3c-9f6a-4a53-9d3e-1a2b3c4d5e6f' as MessageId;
    expect(await smtp.command('MAIL FROM:<>')).toMatch(/^250/);
    const forged = verpOf(messageId, OTHER_SECRET);
    expect(await smtp.command(`RCPT TO:<${forged}>`)).toBe('550 5.1.1 no such recipient');
    const tampered = verpOf(messageId).replace(/^b-(.)/, (_, c: string) =>
      c === 'a' ? 'b-b' : 'b-a',
    );
    expect(await smtp.command(`RCPT TO:<${tampered}>`)).toBe('550 5.1.1 no such recipient');
    expect(await smtp.command(`RCPT TO:<b-short@${BOUNCE_DOMAIN}>`)).toBe(
      '550 5.1.1 no such recipient',
    );
    expect(await smtp.command(`RCPT TO:<postmaster@${BOUNCE_DOMAIN}>`)).toBe(
      '550 5.1.1 no such recipient',
    );
    // No recipient was accepted, so there is no transaction to send data for.
    expect(await smtp.command('DATA')).toMatch(/^503/);
    expect(await rowsTo(store, forged)).toEqual([]);
    smtp.end();
  });

  it('is not an open relay: other domains are refused 550 5.7.1', async () => {
    const { smtp } = await greeted(port);
    expect(await smtp.command('MAIL FROM:<sender@example.net>')).toMatch(/^250/);
    expect(await smtp.command('RCPT TO:<victim@example.org>')).toBe('550 5.7.1 relaying denied');
    expect(await smtp.command(`RCPT TO:<fbl@sub.${BOUNCE_DOMAIN}>`)).toBe(
      '550 5.7.1 relaying denied',
    );
    smtp.end();
  });

  it('accepts an ARF report to the feedback address (no message id, no tenant yet)', async () => {
    const { smtp } = await greeted(port);
    const replies = await send(smtp, 'FBL@Bounces.Example.com', dsn(), 'fbl-sender@isp.example');
    expect(replies.end).toMatch(/^250/);
    const rows = await rowsTo(store, FEEDBACK);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.at(-1)).toMatchObject({
      tenant_id: null,
      message_id: null,
      mail_from: 'fbl-sender@isp.example',
    });
    smtp.end();
  });

  it('refuses a message over the size limit with 552 5.3.4, and a declared SIZE at MAIL FROM', async () => {
    const { messageId } = await seedMessage(store, await seedTenant(store), 'big@example.org');
    const rcpt = verpOf(messageId);
    const { smtp } = await greeted(port);
    expect(await smtp.command('MAIL FROM:<> SIZE=100000')).toMatch(/^552/);
    const replies = await send(smtp, rcpt, dsn(`X-Padding: ${'x'.repeat(5000)}`));
    expect(replies.end).toMatch(/^552 5\.3\.4/);
    expect(await rowsTo(store, rcpt)).toEqual([]);
    smtp.end();
  });

  it.each([
    ['<LF>.<LF>', '\n.\n'],
    ['<CR>.<CR>', '\r.\r'],
    ['<CR><LF>.<LF>', '\r\n.\n'],
  ])(
    'refuses a body smuggling a second message after %s, as one message',
    async (_name, sequence) => {
      const { messageId } = await seedMessage(store, await seedTenant(store), 'x@example.org');
      const rcpt = verpOf(messageId);
      const { smtp } = await greeted(port);
      expect(await smtp.command('MAIL FROM:<>')).toMatch(/^250/);
      expect(await smtp.command(`RCPT TO:<${rcpt}>`)).toMatch(/^250/);
      expect(await smtp.command('DATA')).toMatch(/^354/);
      smtp.write(
        `${dsn()}${sequence}MAIL FROM:<>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n`,
      );
      expect(await smtp.reply()).toBe('554 5.6.0 bare CR or LF in message; lines end with CRLF');
      // The next reply answers QUIT: the smuggled commands were never run as commands.
      expect(await smtp.command('QUIT')).toMatch(/^221/);
      expect(await rowsTo(store, rcpt)).toEqual([]);
    },
  );

  it('refuses a message with more Received headers than the limit (a loop) with 554 5.4.6', async () => {
    const { messageId } = await seedMessage(store, await seedTenant(store), 'loop@example.org');
    const rcpt = verpOf(messageId);
    const received = Array.from({ length: 51 }, (_, i) => `Received: from h${i} by h${i + 1}`);
    const { smtp } = await greeted(port);
    const replies = await send(smtp, rcpt, dsn(received.join('\r\n')));
    expect(replies.end).toBe('554 5.4.6 too many Received headers: mail loop');
    expect(await rowsTo(store, rcpt)).toEqual([]);

    // 50 is still fine: the limit is on the count, not on Received headers as such.
    const fifty = await send(smtp, rcpt, dsn(received.slice(0, 50).join('\r\n')));
    expect(fifty.end).toMatch(/^250/);
    expect(await rowsTo(store, rcpt)).toHaveLength(1);
    smtp.end();
  });

  it('refuses mail whose sender is on the bounce domain (our own return path coming back)', async () => {
    const { smtp } = await greeted(port);
    const own = verpOf('0b7e2f3c-9f6a-4a53-9d3e-1a2b3c4d5e6f');
    expect(await smtp.command(`MAIL FROM:<${own}>`)).toBe(
      '554 5.4.6 mail from this domain is not accepted here: loop',
    );
    smtp.end();
  });

  it('limits the recipients of one message', async () => {
    const { smtp } = await greeted(port);
    expect(await smtp.command('MAIL FROM:<>')).toMatch(/^250/);
    expect(await smtp.command(`RCPT TO:<${FEEDBACK}>`)).toMatch(/^250/);
    for (let i = 0; i < 2; i++) {
      expect(await smtp.command(`RCPT TO:<${verpOf(randomUUID())}>`)).toMatch(/^250/);
    }
    expect(await smtp.command(`RCPT TO:<${verpOf(randomUUID())}>`)).toBe(
      '452 4.5.3 too many recipients',
    );
    smtp.end();
  });

  it('drops a connection whose DATA phase outlasts dataTimeout, storing nothing', async () => {
    const { messageId } = await seedMessage(store, await seedTenant(store), 'slow@example.org');
    const rcpt = verpOf(messageId);
    const { smtp } = await greeted(port);
    expect(await smtp.command('MAIL FROM:<>')).toMatch(/^250/);
    expect(await smtp.command(`RCPT TO:<${rcpt}>`)).toMatch(/^250/);
    expect(await smtp.command('DATA')).toMatch(/^354/);
    smtp.write('Subject: never finished\r\n');
    expect(await smtp.reply()).toMatch(/^421 4\.4\.2/);
    await smtp.closed;
    expect(await rowsTo(store, rcpt)).toEqual([]);
  });

  it('answers 451 4.3.0 and keeps nothing when the insert does not commit', async () => {
    const failing = {
      ...store,
      query: store.query.bind(store),
      transaction: (
        fn: (tx: Parameters<Parameters<Store['transaction']>[0]>[0]) => Promise<unknown>,
      ) =>
        store.transaction(async (tx) => {
          await fn(tx);
          throw new Error('commit failed');
        }),
    } as Store;
    const broken = createInboundSmtpListener({
      settings,
      secrets: SECRET,
      sink: createSqlInboundStore(failing),
      logger,
    });
    const brokenPort = await broken.listen();
    try {
      const { messageId } = await seedMessage(store, await seedTenant(store), 'f@example.org');
      const rcpt = verpOf(messageId);
      const { smtp } = await greeted(brokenPort);
      const replies = await send(smtp, rcpt, dsn());
      expect(replies.end).toBe('451 4.3.0 local error in processing, try again later');
      expect(await rowsTo(store, rcpt)).toEqual([]);
      smtp.end();
    } finally {
      await broken.close();
    }
  });
});
