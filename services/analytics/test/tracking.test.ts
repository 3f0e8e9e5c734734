import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageId, TenantId } from '@relais/domain';
import { linkKeyOf, trackingToken, unsubscribeToken, type TrackingClaims } from '@relais/mail';
import type { Store } from '@relais/store';
import {
  createSqlEngagementStore,
  createSqlUnsubscribeStore,
  oneClickUnsubscribe,
  trackingRoutes,
} from '../src/index';
import { drivers, logger, openMigrated, seedCampaign, seedTenant } from './fixtures';

// The signed-link rules under attack: forged, edited, truncated, expired, foreign and
// replayed URLs never redirect anywhere but the signed target, and GET never unsubscribes.

const SECRET = 'tracking-secret-of-the-dispatcher-0123456789';
const OTHER_SECRET = 'somebody-elses-secret-0123456789-0123456789';
const DELIVERED_AT = new Date('2026-11-27T08:00:00Z');
const LATER = new Date(DELIVERED_AT.getTime() + 60_000);
const SHOP = 'https://shop.sender.test/sale?c=1';
const BLOG = 'https://blog.sender.test/';
const EVIL = 'https://evil.example/phish';
const HUMAN_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.0';

describe.each(drivers)('tracking endpoints on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let server: Server;
  let base: string;
  let clock = LATER;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    const app = express();
    app.use(
      trackingRoutes({
        store: createSqlEngagementStore(store),
        secrets: [SECRET],
        windows: { machineOpenMs: 2_000, machineClickMs: 5_000 },
        linkLifetimeMs: 400 * 86_400_000,
        clickBurstMs: 10_000,
        trustedProxies: ['127.0.0.1/32', '::1/128'],
        logger,
        now: () => clock,
      }),
    );
    app.use(
      oneClickUnsubscribe({ store: createSqlUnsubscribeStore(store), secrets: [SECRET], logger }),
    );
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await drop();
  });

  /** A delivered campaign of `count` messages whose HTML had the shop and blog links. */
  async function campaign(count = 1) {
    const { tenantId } = await seedTenant(store);
    const seeded = await seedCampaign(store, tenantId, {
      states: Array.from({ length: count }, () => 'delivered'),
    });
    await store.query(`UPDATE messages SET final_at = $2 WHERE campaign_id = $1`, [
      seeded.campaignId,
      DELIVERED_AT,
    ]);
    for (const url of [SHOP, BLOG]) {
      await store.query(
        `INSERT INTO campaign_links (campaign_id, link_key, tenant_id, url) VALUES ($1, $2, $3, $4)`,
        [seeded.campaignId, linkKeyOf(url), tenantId, url],
      );
    }
    return { tenantId, ...seeded };
  }

  const claims = (messageId: MessageId, over: Partial<TrackingClaims> = {}): TrackingClaims => ({
    kind: 'click',
    messageId,
    linkKey: linkKeyOf(SHOP),
    linkIndex: 1,
    linkCount: 2,
    issuedAt: DELIVERED_AT,
    ...over,
  });

  const click = async (token: string, headers: Record<string, string> = {}, method = 'GET') => {
    const response = await fetch(`${base}/c/${token}`, {
      method,
      redirect: 'manual',
      headers: { 'user-agent': HUMAN_AGENT, ...headers },
    });
    await response.arrayBuffer();
    return { status: response.status, location: response.headers.get('location') };
  };

  const open = async (token: string, headers: Record<string, string> = {}, method = 'GET') => {
    const response = await fetch(`${base}/o/${token}.gif`, {
      method,
      headers: { 'user-agent': HUMAN_AGENT, ...headers },
    });
    const body = Buffer.from(await response.arrayBuffer());
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      cache: response.headers.get('cache-control'),
      bytes: body.length,
    };
  };

  const eventsOf = async (messageId: MessageId) => {
    const { rows } = await store.query<{ kind: string; machine: boolean; reason: string | null }>(
      `SELECT kind, machine, machine_reason AS reason FROM engagement_events WHERE message_id = $1 ORDER BY id`,
      [messageId],
    );
    return rows;
  };

  const marksOf = async (messageId: MessageId) => {
    const { rows } = await store.query<Record<string, Date | null>>(
      `SELECT opened_at, human_opened_at, clicked_at, human_clicked_at FROM messages WHERE id = $1`,
      [messageId],
    );
    return rows[0]!;
  };

  it('redirects a signed link to its target, every replay to the same one, counted once', async () => {
    const { messageIds } = await campaign();
    const messageId = messageIds[0]!;
    const token = trackingToken(claims(messageId), SECRET);
    clock = LATER;
    const answers = [];
    for (let n = 0; n < 6; n++) answers.push(await click(token));
    // A query string appended by someone else changes nothing either.
    answers.push(await click(`${token}?url=${encodeURIComponent(EVIL)}`));
    expect(answers.every((answer) => answer.status === 302 && answer.location === SHOP)).toBe(true);
    const events = await eventsOf(messageId);
    expect(events).toHaveLength(7);
    expect(events.every((event) => !event.machine)).toBe(true);
    const { rows } = await store.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE envelope ->> 'type' = 'engagement.clicked' AND envelope -> 'data' ->> 'messageId' = $1`,
      [messageId],
    );
    expect(rows[0]?.n).toBe(7);
    const marks = await marksOf(messageId);
    expect(marks.human_clicked_at?.getTime()).toBe(LATER.getTime());
  });

  it('answers 404 and never redirects to a forged, edited, expired or foreign link', async () => {
    const mine = await campaign();
    const theirs = await campaign();
    const messageId = mine.messageIds[0]!;
    const foreignMessage = theirs.messageIds[0]!;
    await store.query(
      `INSERT INTO campaign_links (campaign_id, link_key, tenant_id, url) VALUES ($1, $2, $3, $4)`,
      [theirs.campaignId, linkKeyOf(EVIL), theirs.tenantId, EVIL],
    );
    const valid = trackingToken(claims(messageId), SECRET);
    const attacks: Array<[string, string]> = [];
    for (let index = 0; index < valid.length; index++) {
      const swapped = valid[index] === 'A' ? 'B' : 'A';
      attacks.push([`edit@${index}`, valid.slice(0, index) + swapped + valid.slice(index + 1)]);
    }
    attacks.push(
      ['truncated-1', valid.slice(0, -1)],
      ['truncated-half', valid.slice(0, 33)],
      ['empty-ish', 'x'],
      ['wrong key', trackingToken(claims(messageId), OTHER_SECRET)],
      [
        'expired',
        trackingToken(claims(messageId, { issuedAt: new Date('2025-01-01T00:00:00Z') }), SECRET),
      ],
      ['open token as click', trackingToken(claims(messageId, { kind: 'open' }), SECRET)],
      // Signed, but the link key is another campaign's target: looked up in the message's own.
      ['foreign target', trackingToken(claims(messageId, { linkKey: linkKeyOf(EVIL) }), SECRET)],
      [
        'foreign message',
        trackingToken(claims(foreignMessage, { linkKey: linkKeyOf(SHOP) }), SECRET),
      ],
      ['unknown message', trackingToken(claims(randomUUID() as MessageId), SECRET)],
      [
        'unknown link',
        trackingToken(claims(messageId, { linkKey: linkKeyOf('https://x.test') }), SECRET),
      ],
      ['unsubscribe token', unsubscribeToken({ messageId, secret: SECRET })],
    );
    clock = LATER;
    let foreignRedirects = 0;
    const refused: string[] = [];
    for (const [name, token] of attacks) {
      const answer = await click(token);
      if (answer.location !== null && answer.location !== SHOP) foreignRedirects += 1;
      if (answer.status === 404 && answer.location === null) refused.push(name);
    }
    console.info(
      `[tracking] ${attacks.length} forged/edited/foreign click URLs: ${refused.length} answered 404, ${foreignRedirects} redirects to a foreign target`,
    );
    expect(foreignRedirects).toBe(0);
    // Every attack is refused except the other tenant's genuine token, which leads to that
    // campaign's own link (the same SHOP URL here), never to EVIL.
    expect(attacks.map(([name]) => name).filter((name) => !refused.includes(name))).toEqual([
      'foreign message',
    ]);
    // Nothing recorded for the forged ones on our message.
    expect(await eventsOf(messageId)).toEqual([]);
  });

  it('serves a 1×1 gif for every pixel URL and tells machine opens from human ones', async () => {
    const { messageIds } = await campaign(7);
    const token = (index: number) =>
      trackingToken(
        claims(messageIds[index]!, { kind: 'open', linkKey: '0', linkIndex: 0 }),
        SECRET,
      );
    clock = LATER;
    const answers = [
      await open(token(0)),
      await open(token(0)), // replay: recorded, counted once
      await open(token(1), { 'user-agent': 'Mozilla/5.0' }), // Apple MPP fetcher
      await open(token(2), {
        'user-agent': 'Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15',
        'x-forwarded-for': '17.58.101.4',
      }), // Apple's network behind our load balancer
      await open(token(3), {
        'user-agent':
          'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
      }),
      await open(token(4), {}, 'HEAD'),
      await open(token(5), { 'user-agent': 'Mozilla/5.0 Barracuda Link Protection' }),
      await open(`${token(0).slice(0, -2)}AA`), // forged: still a gif, nothing recorded
    ];
    clock = new Date(DELIVERED_AT.getTime() + 500);
    answers.push(await open(token(6)));

    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.type).toBe('image/gif');
      expect(answer.cache).toContain('no-store');
    }
    // HEAD gets the headers without the body.
    expect(answers.filter((answer) => answer.bytes === 42).length).toBe(answers.length - 1);
    const verdicts = [];
    for (const messageId of messageIds) verdicts.push(await eventsOf(messageId));
    expect(verdicts.map((events) => events.map((event) => [event.machine, event.reason]))).toEqual([
      [
        [false, null],
        [false, null],
      ],
      [[true, 'apple-mpp']],
      [[true, 'apple-mpp']],
      [[false, 'google-image-proxy']],
      [[true, 'head-request']],
      [[true, 'security-scanner']],
      [[true, 'too-soon']],
    ]);
    const marks = await Promise.all(messageIds.map(marksOf));
    expect(marks.map((mark) => mark.opened_at !== null)).toEqual(Array(7).fill(true));
    expect(marks.map((mark) => mark.human_opened_at !== null)).toEqual([
      true,
      false,
      false,
      true,
      false,
      false,
      false,
    ]);
  });

  it('calls scanner prefetch clicks machine: too soon, scanner agents, every link at once', async () => {
    const { messageIds } = await campaign(3);
    const shop = (messageId: MessageId) => trackingToken(claims(messageId), SECRET);
    const blog = (messageId: MessageId) =>
      trackingToken(claims(messageId, { linkKey: linkKeyOf(BLOG), linkIndex: 2 }), SECRET);
    clock = new Date(DELIVERED_AT.getTime() + 1_000);
    expect((await click(shop(messageIds[0]!))).location).toBe(SHOP);
    clock = LATER;
    expect(
      (await click(shop(messageIds[1]!), { 'user-agent': 'Mimecast URL Protect' })).location,
    ).toBe(SHOP);
    expect((await click(shop(messageIds[2]!))).location).toBe(SHOP);
    clock = new Date(LATER.getTime() + 800);
    expect((await click(blog(messageIds[2]!))).location).toBe(BLOG);

    const verdicts = [];
    for (const messageId of messageIds) verdicts.push(await eventsOf(messageId));
    expect(verdicts.map((events) => events.map((event) => [event.machine, event.reason]))).toEqual([
      [[true, 'too-soon']],
      [[true, 'security-scanner']],
      [
        [true, 'all-links'],
        [true, 'all-links'],
      ],
    ]);
    // The burst's first click looked human until the last link; it no longer counts.
    expect((await marksOf(messageIds[2]!)).human_clicked_at).toBeNull();
  });

  it('never unsubscribes on GET, however often; POST does once', async () => {
    const { tenantId, messageIds } = await campaign();
    const messageId = messageIds[0]!;
    const token = unsubscribeToken({ messageId, secret: SECRET });
    for (let n = 0; n < 40; n++) {
      const response = await fetch(`${base}/u/${token}`, { redirect: 'manual' });
      await response.text();
      expect(response.status).toBe(200);
    }
    const count = () => unsubscribes(store, tenantId);
    expect(await count()).toBe(0);
    for (let n = 0; n < 3; n++) {
      const response = await fetch(`${base}/u/${token}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      await response.text();
      expect(response.headers.get('location')).toBeNull();
    }
    console.info(`[tracking] 40 GET /u → ${0} unsubscribes; 3 POST → ${await count()}`);
    expect(await count()).toBe(1);
  });
});

async function unsubscribes(store: Store, tenantId: TenantId): Promise<number> {
  const { rows } = await store.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM consent_events WHERE tenant_id = $1 AND source = 'one-click-unsubscribe'`,
    [tenantId],
  );
  return rows[0]?.n ?? 0;
}
