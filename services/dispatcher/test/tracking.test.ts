import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { createEnvelope, type CampaignId, type Envelope, type TenantId } from '@relais/domain';
import { linkKeyOf, verifyTrackingToken } from '@relais/mail';
import type { Store } from '@relais/store';
import { onDispatchBatch } from '../src/handlers/on-dispatch-batch';
import {
  NOW,
  drivers,
  mail,
  openMigrated,
  portsFor,
  seedCampaign,
  seedTemplate,
  seedTenant,
} from './fixtures';

const TRACKING_SECRET = 'tracking-secret-of-at-least-32-bytes!!';
const identity = {
  ...mail.identity,
  tracking: { baseUrl: 'https://t.sender.test', secret: TRACKING_SECRET },
};
const HTML =
  '<html><body><p>Sale</p><a href="https://shop.sender.test/sale?c={{ contact.code }}">Shop</a>' +
  '<a href="https://blog.sender.test/">Blog</a><a href="https://shop.sender.test/me?e={{ contact.email | url_encode }}">Me</a>' +
  '<a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>';
const TEXT = 'Shop: https://shop.sender.test/sale\n';

/** Consent of a contact for `tracking`: granted, withdrawn, or never asked. */
type Consent = 'granted' | 'withdrawn' | 'absent';

async function seedContactMessages(
  store: Store,
  tenantId: TenantId,
  campaignId: CampaignId,
  templateId: string,
  consents: readonly Consent[],
): Promise<Envelope<'dispatch.batch'>> {
  const recipients = [];
  for (const [index, consent] of consents.entries()) {
    const contactId = randomUUID();
    const messageId = randomUUID();
    const email = `c${index}@example.test`;
    const current =
      consent === 'absent'
        ? {}
        : { tracking: { granted: consent === 'granted', at: NOW.toISOString() } };
    await store.query(
      `INSERT INTO contacts (id, tenant_id, email, domain, consents) VALUES ($1, $2, $3, 'example.test', $4::jsonb)`,
      [contactId, tenantId, email, JSON.stringify(current)],
    );
    await store.query(
      `INSERT INTO messages (id, tenant_id, campaign_id, contact_id, email, domain, variant, state)
       VALUES ($1, $2, $3, $4, $5, 'example.test', 'A', 'queued')`,
      [messageId, tenantId, campaignId, contactId, email],
    );
    recipients.push({
      messageId,
      contactId,
      email,
      variant: 'A',
      templateId,
      attributes: { code: `C${index}` },
    });
  }
  return createEnvelope({
    type: 'dispatch.batch',
    tenantId,
    data: { campaignId, batch: 0, messageClass: 'marketing', recipients },
  });
}

describe.each(drivers)('tracking at render time on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
  });
  afterAll(async () => {
    await drop();
  });

  /** Dispatches one recipient per consent and returns their HTML and text parts, in order. */
  async function dispatch(policy: string, consents: readonly Consent[]) {
    const tenantId = await seedTenant(store);
    await store.query(`UPDATE tenants SET tracking_policy = $2 WHERE id = $1`, [tenantId, policy]);
    const campaignId = await seedCampaign(store, tenantId);
    const templateId = await seedTemplate(store, tenantId, { html: HTML, text: TEXT });
    const batch = await seedContactMessages(store, tenantId, campaignId, templateId, consents);
    const sent: Array<Envelope<'outbound.send'>> = [];
    await onDispatchBatch(
      batch,
      portsFor(store, async (envelopes) => void sent.push(...envelopes), { identity }),
    );
    const parts = [];
    for (const recipient of batch.data.recipients) {
      const envelope = sent.find((entry) => entry.data.messageId === recipient.messageId);
      const parsed = await simpleParser(Buffer.from(envelope?.data.rawBase64 ?? '', 'base64'));
      parts.push({
        messageId: recipient.messageId,
        html: typeof parsed.html === 'string' ? parsed.html : '',
        text: parsed.text ?? '',
      });
    }
    const { rows } = await store.query<{ link_key: string; url: string }>(
      `SELECT link_key, url FROM campaign_links WHERE campaign_id = $1 ORDER BY url`,
      [campaignId],
    );
    return { parts, links: rows };
  }

  it('tracks only recipients with a granted tracking consent under the default policy', async () => {
    const { parts, links } = await dispatch('consent', ['granted', 'absent', 'withdrawn']);
    const [granted, absent, withdrawn] = parts;

    expect(granted?.html).toMatch(/https:\/\/t\.sender\.test\/o\/[A-Za-z0-9_-]{66}\.gif/);
    const clicks = [
      ...(granted?.html ?? '').matchAll(/https:\/\/t\.sender\.test\/c\/([\w-]{66})/g),
    ];
    expect(clicks).toHaveLength(2);
    expect(granted?.html).not.toContain('shop.sender.test/sale');
    // A link holding the address stays direct: no address goes into the link table.
    expect(granted?.html).toContain('https://shop.sender.test/me?e=c0%40example.test');
    // The one-click unsubscribe link stays direct.
    expect(granted?.html).toContain('https://u.sender.test/u/');
    const claims = verifyTrackingToken(clicks[0]?.[1] ?? '', TRACKING_SECRET, {
      now: NOW,
      maxAgeMs: 1000,
    });
    expect(claims.ok && claims.claims).toMatchObject({
      kind: 'click',
      messageId: granted?.messageId,
      linkKey: linkKeyOf('https://shop.sender.test/sale?c=C0'),
      linkIndex: 1,
      linkCount: 2,
    });
    // No address in any URL, not even encoded in a token.
    const urls = [
      ...(granted?.html ?? '').matchAll(/https:\/\/t\.sender\.test\/[oc]\/([\w-]{66})/g),
    ];
    expect(urls).toHaveLength(3);
    for (const [url, token] of urls) {
      expect(url).not.toContain('@');
      expect(Buffer.from(token ?? '', 'base64url').toString('latin1')).not.toContain('c0@');
    }
    // Text parts are never rewritten.
    expect(granted?.text).toContain('https://shop.sender.test/sale');

    for (const untracked of [absent, withdrawn]) {
      expect(untracked?.html).not.toContain('t.sender.test');
      expect(untracked?.html).toContain('https://shop.sender.test/sale?c=');
      expect(untracked?.html).not.toMatch(/<img/);
    }
    // Only the tracked recipient's targets are in the link table.
    expect(links.map((link) => link.url)).toEqual([
      'https://blog.sender.test/',
      'https://shop.sender.test/sale?c=C0',
    ]);
  });

  it('tracks everyone but withdrawals under unless_withdrawn, nobody under off', async () => {
    const lenient = await dispatch('unless_withdrawn', ['granted', 'absent', 'withdrawn']);
    expect(lenient.parts.map((part) => part.html.includes('/o/'))).toEqual([true, true, false]);
    const off = await dispatch('off', ['granted', 'absent']);
    expect(off.parts.map((part) => part.html.includes('t.sender.test'))).toEqual([false, false]);
    expect(off.links).toEqual([]);
  });
});
