import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactId, Envelope, MessageId, TenantId } from '@relais/domain';
import { parseVerp, verpAddress } from '@relais/mail';
import type { Store } from '@relais/store';
import { createSqlBounceStore } from '../src/adapters/sql-bounce-store';
import { createSqlInboundStore } from '../src/adapters/sql-inbound-store';
import { createSqlReportActions } from '../src/adapters/sql-report-actions';
import { createReportWorker, type ReportWorker } from '../src/adapters/sql-report-worker';
import { onDeliveryBounced } from '../src/handlers/on-delivery-bounced';
import { onInboundReport } from '../src/handlers/on-inbound-report';
import type { InboundReport, SoftBouncePolicy } from '../src/ports';
import {
  bouncedEnvelope,
  bouncesOf,
  drivers,
  logger,
  openMigrated,
  outboxSuppressionsOf,
  seedTenant,
  suppressionsOf,
} from './fixtures';
import { arf, autoreply, dsn } from './reports';

const SECRET = 'a-bounce-secret-of-at-least-32-characters';
const BOUNCE_DOMAIN = 'bounces.relais.test';
const FEEDBACK = 'fbl@bounces.relais.test';
const softBounces: SoftBouncePolicy = { threshold: 3, windowMs: 7 * 86_400_000 };

const openVerp = (address: string) => {
  const verp = parseVerp(address, SECRET);
  return verp.ok ? verp.messageId : undefined;
};

interface Sent {
  tenantId: TenantId;
  messageId: MessageId;
  contactId: ContactId;
  email: string;
  verp: string;
  messageIdHeader: string;
}

async function seedSent(store: Store, tenantId: TenantId, email: string): Promise<Sent> {
  const { rows } = await store.query<{ id: ContactId }>(
    `INSERT INTO contacts (tenant_id, email, domain, consents)
     VALUES ($1, $2, $3, '{"marketing": {"granted": true}}')
     ON CONFLICT (tenant_id, email) DO UPDATE SET updated_at = now() RETURNING id`,
    [tenantId, email, email.split('@')[1]],
  );
  const contactId = rows[0]!.id;
  const messageId = randomUUID() as MessageId;
  await store.query(
    `INSERT INTO messages (id, tenant_id, campaign_id, contact_id, email, domain, variant, state)
     VALUES ($1, $2, $3, $4, $5, $6, 'A', 'delivered')`,
    [messageId, tenantId, randomUUID(), contactId, email, email.split('@')[1]],
  );
  return {
    tenantId,
    messageId,
    contactId,
    email,
    verp: verpAddress({ messageId, secret: SECRET, bounceDomain: BOUNCE_DOMAIN }),
    messageIdHeader: `<${messageId}@mail.relais.test>`,
  };
}

/** Stores a message as the inbound listener does, to a VERP address or the feedback address. */
async function receive(store: Store, raw: Buffer, to: Sent | 'feedback'): Promise<void> {
  await createSqlInboundStore(store).onMessage({
    mailFrom: to === 'feedback' ? 'fbl@isp.example' : '',
    recipients:
      to === 'feedback'
        ? [{ kind: 'feedback', address: FEEDBACK }]
        : [{ kind: 'verp', address: to.verp, messageId: to.messageId }],
    raw,
    receivedAt: new Date(),
    remoteAddress: '127.0.0.1',
  });
}

function hardDsn(sent: Sent): Buffer {
  return dsn({
    returnPath: sent.verp,
    messageId: sent.messageIdHeader,
    recipient: sent.email,
    status: '5.1.1',
    diagnostic: `550 5.1.1 <${sent.email}>: Recipient address rejected: User unknown`,
  });
}

function softDsn(sent: Sent): Buffer {
  return dsn({
    returnPath: sent.verp,
    messageId: sent.messageIdHeader,
    recipient: sent.email,
    status: '5.2.2',
    diagnostic: '552 5.2.2 Mailbox full',
  });
}

interface ReportRow {
  id: string;
  kind: string | null;
  verdict: Record<string, unknown> | null;
  error: string | null;
  processed_at: Date | null;
}

async function reportsOf(store: Store, messageId: MessageId | null): Promise<ReportRow[]> {
  const { rows } = await store.query<ReportRow>(
    `SELECT id, kind, verdict, error, processed_at FROM inbound_reports
     WHERE message_id IS NOT DISTINCT FROM $1 ORDER BY received_at`,
    [messageId],
  );
  return rows;
}

async function eventsOf<T extends 'complaint.received' | 'suppression.added'>(
  store: Store,
  tenantId: TenantId,
  type: T,
): Promise<Array<Envelope<T>>> {
  const { rows } = await store.query<{ envelope: Envelope<T> | string }>(
    `SELECT envelope FROM outbox WHERE tenant_id = $1 AND type = $2`,
    [tenantId, type],
  );
  return rows.map((row) =>
    typeof row.envelope === 'string' ? (JSON.parse(row.envelope) as Envelope<T>) : row.envelope,
  );
}

function worker(
  store: Store,
  handle?: (report: InboundReport) => void,
  batchSize = 10,
): ReportWorker {
  return createReportWorker({
    store,
    handle: (report, tx) => {
      handle?.(report);
      return onInboundReport(report, {
        actions: createSqlReportActions(tx, { softBounces }),
        openVerp,
        logger,
      });
    },
    logger,
    batchSize,
    pollIntervalMs: 60_000,
    maxAttempts: 3,
  });
}

describe.each(drivers)('inbound report worker on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let reports: ReportWorker;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    reports = worker(store);
  });
  afterAll(async () => {
    await reports.stop();
    await drop();
  });

  it('records a hard DSN bounce of a VERP message and suppresses the address, once', async () => {
    const tenantId = await seedTenant(store);
    const sent = await seedSent(store, tenantId, 'ghost@example.org');
    await receive(store, hardDsn(sent), sent);

    expect(await reports.drain()).toBeGreaterThanOrEqual(1);
    expect(await reports.drain()).toBe(0);

    const [row] = await reportsOf(store, sent.messageId);
    expect(row).toMatchObject({ kind: 'bounce', error: null });
    expect(row?.processed_at).toBeInstanceOf(Date);
    expect(row?.verdict).toMatchObject({
      outcome: 'suppressed',
      messageId: sent.messageId,
      via: 'verp',
      reason: 'userunknown',
      hard: true,
      status: '5.1.1',
      suppressed: 'hard',
    });
    expect(await bouncesOf(store, tenantId)).toMatchObject([
      { id: row?.id, source: 'dsn', reason: 'userunknown', hard: true, email: sent.email },
    ]);
    expect(await suppressionsOf(store, tenantId)).toEqual([
      {
        kind: 'address',
        value: sent.email,
        reason: 'hard bounce: userunknown 5.1.1',
        source: 'bounce',
      },
    ]);
    const announced = await outboxSuppressionsOf(store, tenantId);
    expect(announced.map((event) => event.data)).toMatchObject([
      { email: sent.email, class: 'userunknown' },
    ]);
    expect(announced[0]?.data.confidence).toBeGreaterThan(0.5);
  });

  it('turns a complaint to the feedback address into an unsubscribe, a suppression and complaint.received', async () => {
    const tenantId = await seedTenant(store);
    const sent = await seedSent(store, tenantId, 'angry@example.org');
    await receive(
      store,
      arf({
        returnPath: sent.verp,
        messageId: sent.messageIdHeader,
        recipient: sent.email,
        feedbackAddress: FEEDBACK,
        userAgent: 'ExampleFBL/2.1',
      }),
      'feedback',
    );

    await reports.drain();

    const { rows: contacts } = await store.query<{ status: string; consents: unknown }>(
      `SELECT status, consents FROM contacts WHERE id = $1`,
      [sent.contactId],
    );
    expect(contacts[0]).toMatchObject({
      status: 'unsubscribed',
      consents: { marketing: { granted: false, source: 'complaint' } },
    });
    const { rows: ledger } = await store.query(
      `SELECT purpose, granted, source FROM consent_events WHERE contact_id = $1`,
      [sent.contactId],
    );
    expect(ledger).toEqual([{ purpose: 'marketing', granted: false, source: 'complaint' }]);
    expect(await suppressionsOf(store, tenantId)).toEqual([
      { kind: 'address', value: sent.email, reason: 'complaint', source: 'complaint' },
    ]);
    const complaints = await eventsOf(store, tenantId, 'complaint.received');
    expect(complaints.map((event) => event.data)).toEqual([
      {
        messageId: sent.messageId,
        campaignId: expect.any(String) as string,
        contactId: sent.contactId,
        feedbackType: 'abuse',
        userAgent: 'ExampleFBL/2.1',
      },
    ]);
    expect(
      (await eventsOf(store, tenantId, 'suppression.added')).map((event) => event.data),
    ).toEqual([{ email: sent.email, reason: 'complaint', class: 'complaint', confidence: 1 }]);
  });

  it('finds a complaint’s message by its Message-ID when the return path is not ours; a second report unsubscribes nothing more', async () => {
    const tenantId = await seedTenant(store);
    const sent = await seedSent(store, tenantId, 'twice@example.org');
    const report = arf({
      returnPath: 'someone@elsewhere.example',
      messageId: sent.messageIdHeader,
      recipient: sent.email,
      feedbackAddress: FEEDBACK,
    });
    await receive(store, report, 'feedback');
    await receive(store, report, 'feedback');

    await reports.drain();

    const { rows: ledger } = await store.query(
      `SELECT granted FROM consent_events WHERE contact_id = $1`,
      [sent.contactId],
    );
    expect(ledger).toHaveLength(1);
    expect(await suppressionsOf(store, tenantId)).toHaveLength(1);
    expect(await eventsOf(store, tenantId, 'complaint.received')).toHaveLength(2);
    const { rows } = await store.query<{ verdict: Record<string, unknown> }>(
      `SELECT verdict FROM inbound_reports WHERE verdict->>'messageId' = $1 ORDER BY received_at`,
      [sent.messageId],
    );
    expect(rows.map((row) => row.verdict)).toMatchObject([
      { outcome: 'complaint', via: 'message-id', unsubscribed: true, suppressed: true },
      { outcome: 'complaint', via: 'message-id', unsubscribed: false, suppressed: false },
    ]);
  });

  it('suppresses an address after three soft bounces in the window, counting the relay’s and DSNs alike', async () => {
    const tenantId = await seedTenant(store);
    const bounces = createSqlBounceStore(store, { softBounces });
    const first = await seedSent(store, tenantId, 'full@example.org');
    const second = await seedSent(store, tenantId, 'full@example.org');
    const third = await seedSent(store, tenantId, 'full@example.org');
    await onDeliveryBounced(bouncedEnvelope(tenantId, first, '552 5.2.2 Mailbox full'), {
      bounces,
      logger,
    });
    await receive(store, softDsn(second), second);
    await reports.drain();
    expect(await suppressionsOf(store, tenantId)).toEqual([]);

    await receive(store, softDsn(third), third);
    await reports.drain();

    expect((await bouncesOf(store, tenantId)).map((b) => [b.source, b.hard])).toEqual([
      ['smtp', false],
      ['dsn', false],
      ['dsn', false],
    ]);
    expect(await suppressionsOf(store, tenantId)).toEqual([
      {
        kind: 'address',
        value: 'full@example.org',
        reason: 'soft_bounce_repeated',
        source: 'bounce',
      },
    ]);
    expect(
      (await eventsOf(store, tenantId, 'suppression.added')).map((event) => event.data.class),
    ).toEqual(['soft_bounce_repeated']);
    expect((await reportsOf(store, third.messageId))[0]?.verdict).toMatchObject({
      outcome: 'suppressed',
      suppressed: 'soft_bounce_repeated',
    });
  });

  it('suppresses on the relay’s third soft bounce too (delivery.bounced)', async () => {
    const tenantId = await seedTenant(store);
    const bounces = createSqlBounceStore(store, { softBounces });
    for (let i = 0; i < 3; i += 1) {
      const sent = await seedSent(store, tenantId, 'quota@example.org');
      await onDeliveryBounced(bouncedEnvelope(tenantId, sent, '552 5.2.2 Mailbox full'), {
        bounces,
        logger,
      });
      const expected = i < 2 ? [] : [expect.objectContaining({ reason: 'soft_bounce_repeated' })];
      expect(await suppressionsOf(store, tenantId)).toEqual(expected);
    }
  });

  it('records auto-replies and unparsable mail with their kind and does nothing else', async () => {
    const tenantId = await seedTenant(store);
    const away = await seedSent(store, tenantId, 'away@example.org');
    const junk = await seedSent(store, tenantId, 'junk@example.org');
    await receive(store, autoreply(away.verp), away);
    await receive(store, Buffer.from('\r\n\r\n'), junk);

    await reports.drain();

    expect((await reportsOf(store, away.messageId))[0]).toMatchObject({
      kind: 'autoreply',
      verdict: { outcome: 'autoreply' },
      error: null,
    });
    expect((await reportsOf(store, junk.messageId))[0]).toMatchObject({
      kind: 'other',
      verdict: { outcome: 'other', reason: expect.any(String) as string },
    });
    expect(await bouncesOf(store, tenantId)).toEqual([]);
    expect(await suppressionsOf(store, tenantId)).toEqual([]);
  });

  it('records a report that fails with its error and still processes the rest of its batch', async () => {
    const tenantId = await seedTenant(store);
    const bad = await seedSent(store, tenantId, 'bad@example.org');
    const good = await seedSent(store, tenantId, 'good@example.org');
    await receive(store, hardDsn(bad), bad);
    await receive(store, hardDsn(good), good);
    const failing = worker(store, (report) => {
      if (report.messageId === bad.messageId) throw new Error('boom');
    });

    await failing.drain();
    await failing.stop();
    expect(await reports.drain()).toBe(0);

    expect((await reportsOf(store, bad.messageId))[0]).toMatchObject({
      kind: null,
      error: 'boom',
      processed_at: expect.any(Date) as Date,
    });
    expect((await reportsOf(store, good.messageId))[0]).toMatchObject({
      kind: 'bounce',
      error: null,
    });
    expect((await bouncesOf(store, tenantId)).map((b) => b.email)).toEqual(['good@example.org']);
  });

  it('lets two workers share the pending reports without processing one twice', async () => {
    const tenantId = await seedTenant(store);
    const sent: Sent[] = [];
    for (let i = 0; i < 12; i += 1) {
      const one = await seedSent(store, tenantId, `gone${i}@example.org`);
      sent.push(one);
      await receive(store, hardDsn(one), one);
    }
    const seen: string[] = [];
    const a = worker(store, (report) => void seen.push(report.id), 3);
    const b = worker(store, (report) => void seen.push(report.id), 3);

    await Promise.all([a.drain(), b.drain()]);
    await Promise.all([a.stop(), b.stop()]);

    expect(new Set(seen).size).toBe(seen.length);
    expect(await bouncesOf(store, tenantId)).toHaveLength(12);
    expect(await suppressionsOf(store, tenantId)).toHaveLength(12);
  });
});
