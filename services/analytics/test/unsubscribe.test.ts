import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsubscribeToken } from '@relais/mail';
import type { Store } from '@relais/store';
import { createSqlUnsubscribeStore, oneClickUnsubscribe } from '../src/index';
import { drivers, logger, openMigrated, seedCampaign, seedTenant } from './fixtures';

// RFC 8058 one-click unsubscribe: the signed token is the only authority, GET never
// changes anything, POST unsubscribes once however often it is replayed, and no answer
// redirects or sets a cookie.

const SECRET = 'unsubscribe-secret-of-the-dispatcher-0123456789';
const OLD_SECRET = 'an-older-unsubscribe-secret-still-accepted-987';

describe.each(drivers)('one-click unsubscribe on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let server: Server;
  let base: string;
  const responses: Response[] = [];

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    const app = express();
    app.use(
      oneClickUnsubscribe({
        store: createSqlUnsubscribeStore(store),
        secrets: [SECRET, OLD_SECRET],
        logger,
      }),
    );
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await drop();
    // Whatever was asked, nothing ever redirected or set a cookie.
    expect(responses.length).toBeGreaterThan(10);
    for (const response of responses) {
      expect([200, 404]).toContain(response.status);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('set-cookie')).toBeNull();
    }
  });

  const call = async (method: 'GET' | 'POST', token: string) => {
    const response = await fetch(`${base}/u/${token}`, {
      method,
      redirect: 'manual',
      ...(method === 'POST'
        ? {
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'List-Unsubscribe=One-Click',
          }
        : {}),
    });
    responses.push(response);
    return { status: response.status, html: await response.text() };
  };

  const recipient = async () => {
    const { tenantId } = await seedTenant(store);
    const { messageIds } = await seedCampaign(store, tenantId, { states: ['delivered'] });
    const messageId = messageIds[0]!;
    const { rows } = await store.query<{ contact_id: string }>(
      `SELECT contact_id FROM messages WHERE id = $1`,
      [messageId],
    );
    return { tenantId, messageId, contactId: rows[0]!.contact_id };
  };

  const stateOf = async (contactId: string) => {
    const { rows } = await store.query<{ status: string; consents: any }>(
      `SELECT status, consents FROM contacts WHERE id = $1`,
      [contactId],
    );
    const ledger = await store.query<{ granted: boolean; source: string }>(
      `SELECT granted, source FROM consent_events WHERE contact_id = $1`,
      [contactId],
    );
    const events = await store.query<{ type: string }>(
      `SELECT type FROM outbox WHERE envelope -> 'data' ->> 'contactId' = $1`,
      [contactId],
    );
    return {
      status: rows[0]!.status,
      marketing: rows[0]!.consents?.marketing?.granted,
      ledger: ledger.rows,
      events: events.rows.map((row) => row.type),
    };
  };

  it('shows a confirmation page on GET and changes nothing', async () => {
    const { messageId, contactId } = await recipient();
    const token = unsubscribeToken({ messageId, secret: SECRET });
    for (let i = 0; i < 3; i += 1) {
      const page = await call('GET', token);
      expect(page.status).toBe(200);
      expect(page.html).toContain('<form method="post" action="">');
    }
    expect(await stateOf(contactId)).toEqual({
      status: 'active',
      marketing: undefined,
      ledger: [],
      events: [],
    });
  });

  it('unsubscribes on POST once: ledger row, consent withdrawn, one event, replays change nothing', async () => {
    const { messageId, contactId } = await recipient();
    const token = unsubscribeToken({ messageId, secret: SECRET });
    for (let i = 0; i < 3; i += 1) {
      const done = await call('POST', token);
      expect(done.status).toBe(200);
      expect(done.html).toContain('You are unsubscribed');
    }
    expect(await stateOf(contactId)).toEqual({
      status: 'unsubscribed',
      marketing: false,
      ledger: [{ granted: false, source: 'one-click-unsubscribe' }],
      events: ['engagement.unsubscribed'],
    });
  });

  it('accepts links signed with a previous secret during a rotation', async () => {
    const { messageId, contactId } = await recipient();
    expect((await call('POST', unsubscribeToken({ messageId, secret: OLD_SECRET }))).status).toBe(
      200,
    );
    expect((await stateOf(contactId)).status).toBe('unsubscribed');
  });

  it('refuses forged, edited, foreign and malformed tokens on GET and POST, changing nothing', async () => {
    const { messageId, contactId } = await recipient();
    const genuine = unsubscribeToken({ messageId, secret: SECRET });
    const flipped = `${genuine.slice(0, 10)}${genuine[10] === 'A' ? 'B' : 'A'}${genuine.slice(11)}`;
    const tokens = [
      unsubscribeToken({ messageId, secret: 'an-attacker-guessing-the-secret-0000000000' }),
      flipped,
      genuine.slice(0, -2),
      `${genuine}AA`,
      'not-a-token',
    ];
    for (const token of tokens) {
      for (const method of ['GET', 'POST'] as const) {
        const answer = await call(method, token);
        expect(answer.status, `${method} ${token}`).toBe(404);
        expect(answer.html).toContain('not valid');
      }
    }
    // Signed by us for a message this database does not have (an erased contact): GET
    // asks without looking anything up, POST finds nothing and says the link is not valid.
    const orphan = unsubscribeToken({ messageId: randomUUID(), secret: SECRET });
    expect((await call('GET', orphan)).status).toBe(200);
    expect((await call('POST', orphan)).status).toBe(404);
    expect(await stateOf(contactId)).toEqual({
      status: 'active',
      marketing: undefined,
      ledger: [],
      events: [],
    });
  });
});
