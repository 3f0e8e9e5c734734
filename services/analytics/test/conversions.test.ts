import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageId } from '@relais/domain';
import type { Store } from '@relais/store';
import { analyticsApi } from '../src/index';
import { drivers, logger, openMigrated, seedCampaign, seedTenant } from './fixtures';

const DAY = 86_400_000;
const SALE_AT = new Date('2026-11-27T12:00:00Z');

describe.each(drivers)('conversions API on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    const app = express();
    app.use(express.json());
    app.use('/v1', analyticsApi({ store, logger, attributionWindowMs: 7 * DAY }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await drop();
  });

  const post = async (key: string | undefined, body: unknown) => {
    const response = await fetch(`${base}/conversions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  /** Records a human (or machine) open or click of a message at `at`. */
  const engage = async (
    messageId: MessageId,
    kind: 'open' | 'click',
    at: Date,
    machine = false,
  ) => {
    await store.query(
      `INSERT INTO engagement_events (message_id, tenant_id, campaign_id, kind, machine, occurred_at)
       SELECT id, tenant_id, campaign_id, $2, $3, $4 FROM messages WHERE id = $1`,
      [messageId, kind, machine, at],
    );
    if (!machine) {
      await store.query(
        `UPDATE messages SET last_engaged_at = greatest(last_engaged_at, $2) WHERE id = $1`,
        [messageId, at],
      );
    }
  };

  const contactOf = async (messageId: MessageId) => {
    const { rows } = await store.query<{ contact_id: string }>(
      `SELECT contact_id FROM messages WHERE id = $1`,
      [messageId],
    );
    return rows[0]!.contact_id;
  };

  it('attributes to the named message, once per idempotency key, with one event', async () => {
    const { tenantId, key } = await seedTenant(store);
    const { campaignId, messageIds } = await seedCampaign(store, tenantId, {
      states: ['delivered'],
    });
    const body = {
      messageId: messageIds[0],
      amount: 49.9,
      currency: 'EUR',
      occurredAt: SALE_AT.toISOString(),
      idempotencyKey: 'order-1001',
    };
    const first = await post(key, body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      messageId: messageIds[0],
      campaignId,
      attribution: 'message',
      amount: 49.9,
      currency: 'EUR',
      replayed: false,
    });
    const again = await post(key, { ...body, amount: 1000 });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      conversionId: first.body.conversionId,
      amount: 49.9,
      replayed: true,
    });
    const { rows } = await store.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE envelope ->> 'type' = 'engagement.converted' AND envelope ->> 'tenantId' = $1`,
      [tenantId],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it("credits a contact's last human click, else last open, within the window", async () => {
    const { tenantId, key } = await seedTenant(store);
    const older = await seedCampaign(store, tenantId, { states: ['delivered'] });
    const contactId = await contactOf(older.messageIds[0]!);
    // A second campaign to the same contact.
    const newer = await seedCampaign(store, tenantId, { states: [] });
    const { rows } = await store.query<{ id: MessageId }>(
      `INSERT INTO messages (tenant_id, campaign_id, contact_id, email, domain, variant, state)
       SELECT tenant_id, $2, contact_id, email, domain, 'A', 'delivered' FROM messages WHERE id = $1
       RETURNING id`,
      [older.messageIds[0], newer.campaignId],
    );
    const newerMessage = rows[0]!.id;
    await engage(older.messageIds[0]!, 'click', new Date(SALE_AT.getTime() - 2 * DAY));
    await engage(newerMessage, 'open', new Date(SALE_AT.getTime() - DAY));
    // A scanner's click later than both attributes nothing.
    await engage(newerMessage, 'click', new Date(SALE_AT.getTime() - 3_600_000), true);

    const sale = (idempotencyKey: string, at: Date, campaignId?: string) =>
      post(key, {
        contactId,
        ...(campaignId === undefined ? {} : { campaignId }),
        amount: 20,
        currency: 'USD',
        occurredAt: at.toISOString(),
        idempotencyKey,
      });
    expect((await sale('a', SALE_AT)).body).toMatchObject({
      attribution: 'click',
      messageId: older.messageIds[0],
      campaignId: older.campaignId,
    });
    expect((await sale('b', SALE_AT, newer.campaignId)).body).toMatchObject({
      attribution: 'open',
      messageId: newerMessage,
    });
    // Eight days after the click and seven after the open: outside the window.
    const late = await sale('c', new Date(SALE_AT.getTime() + 6 * DAY + 3_600_000));
    expect(late.status).toBe(201);
    expect(late.body).toMatchObject({ attribution: 'none', messageId: null, contactId });
  });

  it("refuses another tenant's message, a missing key and a body without message or contact", async () => {
    const mine = await seedTenant(store);
    const theirs = await seedTenant(store);
    const { messageIds } = await seedCampaign(store, theirs.tenantId, { states: ['delivered'] });
    const body = {
      messageId: messageIds[0],
      amount: 1,
      currency: 'EUR',
      occurredAt: SALE_AT.toISOString(),
      idempotencyKey: randomUUID(),
    };
    expect((await post(mine.key, body)).status).toBe(404);
    expect((await post(undefined, body)).status).toBe(401);
    expect((await post(mine.key, { ...body, messageId: undefined })).status).toBe(400);
    expect((await post(mine.key, { ...body, currency: 'euro' })).status).toBe(400);
  });
});
