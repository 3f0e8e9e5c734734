import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { simpleParser } from 'mailparser';
import { RelaisError, type Envelope, type TenantId } from '@relais/domain';
import { parseVerp, verifyUnsubscribeToken } from '@relais/mail';
import { createDkimKeyStore } from '@relais/simulator';
import type { Store } from '@relais/store';
import { outboundEnvelopeId } from '../src/domain/envelope-ids';
import { onDispatchBatch } from '../src/handlers/on-dispatch-batch';
import type { OutboundPublisher } from '../src/ports';
import {
  BOUNCE_SECRET,
  NOW,
  UNSUBSCRIBE_SECRET,
  drivers,
  mail,
  manyRecipients,
  openMigrated,
  portsFor,
  relayBus,
  seedBatch,
  seedCampaign,
  seedTemplate,
  seedTenant,
  statesOf,
  waitFor,
  type Relayed,
} from './fixtures';

const keyStore = createDkimKeyStore(mail.dkimPublicKeys);

async function dkimResults(raw: Buffer): Promise<string[]> {
  const verdict = await dkimVerify(raw, {
    resolver: keyStore.resolver,
    curTime: new Date(NOW.getTime() + 60_000),
  });
  return verdict.results.map((result) => `${result.status.result} ${result.info}`);
}

function rawOf(envelope: Envelope<'outbound.send'>): Buffer {
  return Buffer.from(envelope.data.rawBase64, 'base64');
}

describe.each(drivers)('dispatch batches on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let bus: Awaited<ReturnType<typeof relayBus>>;
  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    bus = await relayBus();
  });
  afterAll(async () => {
    await bus.close();
    await drop();
  });

  const publish: OutboundPublisher = (envelopes) => bus.bus.publishMany(envelopes);

  /** What the relays received for this tenant, once the expected count arrived. */
  async function relayedFor(tenantId: TenantId, count: number): Promise<Relayed[]> {
    const mine = () => bus.relayed.filter((entry) => entry.envelope.tenantId === tenantId);
    await waitFor(() => mine().length >= count);
    // Let a duplicate that would follow arrive before the caller counts.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return mine();
  }

  it('publishes one signed outbound.send per recipient to the queue of its pool and class', async () => {
    const tenantId = await seedTenant(store);
    const campaignId = await seedCampaign(store, tenantId);
    const templateId = await seedTemplate(store, tenantId);
    const batch = await seedBatch(store, tenantId, campaignId, [
      { email: 'ana@example.test', attributes: { first_name: 'Ana' }, templateId },
      { email: 'bo@gmail.test', attributes: { first_name: 'Bo' }, templateId },
      { email: 'cy@eu.yahoo.test', attributes: {}, templateId },
    ]);
    await onDispatchBatch(batch, portsFor(store, publish));

    const relayed = await relayedFor(tenantId, 3);
    const byRecipient = new Map(relayed.map((entry) => [entry.envelope.data.rcptTo, entry]));
    expect(relayed).toHaveLength(3);
    expect(byRecipient.get('ana@example.test')?.queue).toBe('default.marketing');
    expect(byRecipient.get('bo@gmail.test')?.queue).toBe('warm.marketing');
    expect(byRecipient.get('cy@eu.yahoo.test')?.queue).toBe('warm.marketing');

    for (const recipient of batch.data.recipients) {
      const { envelope } = byRecipient.get(recipient.email)!;
      expect(envelope.id).toBe(outboundEnvelopeId(recipient.messageId, 1));
      expect(envelope.data).toMatchObject({
        messageId: recipient.messageId,
        campaignId,
        messageClass: 'marketing',
        attempt: 1,
        firstAttemptAt: NOW.toISOString(),
      });
      expect(parseVerp(envelope.data.mailFrom, BOUNCE_SECRET)).toEqual({
        ok: true,
        messageId: recipient.messageId,
      });
      expect(envelope.data.mailFrom.endsWith('@bounces.sender.test')).toBe(true);

      const raw = rawOf(envelope);
      const text = raw.toString('latin1');
      const oneClick = /^List-Unsubscribe: <https:\/\/u\.sender\.test\/u\/([^>]+)>/m.exec(text);
      expect(oneClick).not.toBeNull();
      expect(verifyUnsubscribeToken(oneClick![1]!, UNSUBSCRIBE_SECRET)).toEqual({
        ok: true,
        messageId: recipient.messageId,
      });
      expect(text).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
      expect(text).toMatch(new RegExp(`^Feedback-ID: ${campaignId}:${tenantId}:bulk:relais$`, 'm'));

      const results = await dkimResults(raw);
      expect(results).toEqual([
        expect.stringMatching(/^pass .*header\.a=rsa-sha256/),
        expect.stringMatching(/^pass .*header\.a=ed25519-sha256/),
      ]);
      expect(results.join(' ')).toContain('header.i=@sender.test');

      // The unsubscribe link the template shows is the one-click URL of the header.
      const parsed = await simpleParser(raw);
      expect(parsed.text).toContain(`https://u.sender.test/u/${oneClick![1]!}`);
    }
    const ana = await simpleParser(rawOf(byRecipient.get('ana@example.test')!.envelope));
    expect(ana.subject).toBe('Hello Ana');
    expect(ana.html).toContain('news from Spring sale');
    expect(ana.from?.value).toEqual([{ address: 'news@sender.test', name: 'Sender News' }]);
    expect(ana.messageId).toBe(`<${batch.data.recipients[0]!.messageId}@mail.sender.test>`);
    // Only the receiver's acceptance makes a message `sent`; the relay reports it.
    const states = await statesOf(
      store,
      batch.data.recipients.map((r) => r.messageId),
    );
    expect([...states.values()]).toEqual(['queued', 'queued', 'queued']);
  });

  it('routes transactional mail to its pool without List-Unsubscribe', async () => {
    const tenantId = await seedTenant(store);
    const campaignId = await seedCampaign(store, tenantId, { messageClass: 'transactional' });
    const templateId = await seedTemplate(store, tenantId, { html: null, text: 'Your code.' });
    const batch = await seedBatch(
      store,
      tenantId,
      campaignId,
      [{ email: 'bo@gmail.test', templateId }],
      'transactional',
    );
    await onDispatchBatch(batch, portsFor(store, publish));

    const [entry] = await relayedFor(tenantId, 1);
    expect(entry!.queue).toBe('tx.transactional');
    const text = rawOf(entry!.envelope).toString('latin1');
    expect(text).not.toMatch(/^List-Unsubscribe/im);
    expect(text).toMatch(/^Feedback-ID: .*:transactional:relais$/m);
    expect(await dkimResults(rawOf(entry!.envelope))).toEqual([
      expect.stringMatching(/^pass /),
      expect.stringMatching(/^pass /),
    ]);
  });

  it('marks recipients failed whose render or build fails, and sends the others', async () => {
    const tenantId = await seedTenant(store);
    const campaignId = await seedCampaign(store, tenantId);
    const templateId = await seedTemplate(store, tenantId, {
      text: '{% if contact.huge %}{% for i in (1..100000000) %}x{% endfor %}{% endif %}Hi',
    });
    const missingTemplate = '00000000-0000-4000-8000-000000000000';
    const batch = await seedBatch(store, tenantId, campaignId, [
      { email: 'ok@example.test', templateId },
      { email: 'huge@example.test', attributes: { huge: true }, templateId },
      { email: 'a,b@example.test', templateId },
      { email: 'gone@example.test', templateId: missingTemplate },
    ]);
    await onDispatchBatch(batch, portsFor(store, publish));

    const relayed = await relayedFor(tenantId, 1);
    expect(relayed.map((entry) => entry.envelope.data.rcptTo)).toEqual(['ok@example.test']);
    const ids = batch.data.recipients.map((r) => r.messageId);
    const states = await statesOf(store, ids);
    expect(ids.map((id) => states.get(id))).toEqual(['queued', 'failed', 'failed', 'failed']);
  });

  it('loses no recipient when a batch is redelivered after a failed publish, and repeats no envelope id', async () => {
    const tenantId = await seedTenant(store);
    const campaignId = await seedCampaign(store, tenantId);
    const templateId = await seedTemplate(store, tenantId);
    const batch = await seedBatch(store, tenantId, campaignId, manyRecipients(60, templateId));
    const firstIds: string[] = [];
    // The broker confirms the first 25 publishes, then the connection drops.
    const crashing: OutboundPublisher = async (envelopes) => {
      firstIds.push(...envelopes.map((envelope) => envelope.id));
      await bus.bus.publishMany(envelopes.slice(0, 25));
      throw new RelaisError('BUS_PUBLISH_FAILED', 'connection closed');
    };
    await expect(onDispatchBatch(batch, portsFor(store, crashing))).rejects.toMatchObject({
      retryable: true,
    });
    const later = new Date(NOW.getTime() + 60_000);
    await onDispatchBatch(batch, portsFor(store, publish, { now: () => later }));

    const relayed = await relayedFor(tenantId, 60);
    const relayedIds = relayed.map((entry) => entry.envelope.id);
    // The relay saw each message once: the redelivered copies carried the same envelope ids.
    expect(relayedIds).toHaveLength(60);
    expect(new Set(relayedIds)).toEqual(new Set(firstIds));
    expect(new Set(relayed.map((entry) => entry.envelope.data.messageId))).toEqual(
      new Set(batch.data.recipients.map((r) => r.messageId)),
    );
  });

  it('skips recipients no longer queued when a batch is redelivered', async () => {
    const tenantId = await seedTenant(store);
    const campaignId = await seedCampaign(store, tenantId);
    const templateId = await seedTemplate(store, tenantId);
    const batch = await seedBatch(store, tenantId, campaignId, [
      { email: 'queued@example.test', templateId },
      { email: 'delivered@example.test', templateId, state: 'delivered' },
      { email: 'failed@example.test', templateId, state: 'failed' },
    ]);
    const published: Array<Envelope<'outbound.send'>> = [];
    const record: OutboundPublisher = async (envelopes) => void published.push(...envelopes);
    await onDispatchBatch(batch, portsFor(store, record));
    expect(published.map((envelope) => envelope.data.rcptTo)).toEqual(['queued@example.test']);
  });

  it('drops the batch of a cancelled campaign and cancels its queued messages', async () => {
    const tenantId = await seedTenant(store);
    const campaignId = await seedCampaign(store, tenantId, { status: 'cancelled' });
    const templateId = await seedTemplate(store, tenantId);
    const batch = await seedBatch(store, tenantId, campaignId, manyRecipients(3, templateId));
    const published: Array<Envelope<'outbound.send'>> = [];
    const record: OutboundPublisher = async (envelopes) => void published.push(...envelopes);
    await onDispatchBatch(batch, portsFor(store, record));

    expect(published).toEqual([]);
    const states = await statesOf(
      store,
      batch.data.recipients.map((r) => r.messageId),
    );
    expect([...states.values()]).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });

  it("publishes nothing for a batch naming another tenant's campaign", async () => {
    const owner = await seedTenant(store);
    const campaignId = await seedCampaign(store, owner);
    const templateId = await seedTemplate(store, owner);
    const batch = await seedBatch(store, owner, campaignId, manyRecipients(2, templateId));
    const intruder = await seedTenant(store);
    const published: Array<Envelope<'outbound.send'>> = [];
    const record: OutboundPublisher = async (envelopes) => void published.push(...envelopes);
    await onDispatchBatch({ ...batch, tenantId: intruder }, portsFor(store, record));

    expect(published).toEqual([]);
    const states = await statesOf(
      store,
      batch.data.recipients.map((r) => r.messageId),
    );
    expect([...states.values()]).toEqual(['queued', 'queued']);
  });

  it('compiles each template once for a batch of hundreds, and again after an edit', async () => {
    const tenantId = await seedTenant(store);
    const campaignId = await seedCampaign(store, tenantId);
    const templateId = await seedTemplate(store, tenantId);
    const ports = portsFor(store, async () => undefined);
    const loads: number[] = [];
    const counting = {
      ...ports,
      templates: {
        get size() {
          return ports.templates.size;
        },
        get: (stored: Parameters<typeof ports.templates.get>[0]) => {
          loads.push(stored.updatedAt.getTime());
          return ports.templates.get(stored);
        },
      },
    };
    const first = await seedBatch(store, tenantId, campaignId, manyRecipients(300, templateId));
    await onDispatchBatch(first, counting);
    expect(loads).toHaveLength(1);
    expect(ports.templates.size).toBe(1);

    await store.query(
      `UPDATE templates SET subject = 'Edited', updated_at = now() + interval '1 second' WHERE id = $1`,
      [templateId],
    );
    const second = await seedBatch(store, tenantId, campaignId, manyRecipients(2, templateId));
    let subject: string | undefined;
    await onDispatchBatch(second, {
      ...counting,
      publish: async (envelopes) => {
        subject = (await simpleParser(rawOf(envelopes[0]!))).subject;
      },
    });
    expect(subject).toBe('Edited');
    expect(ports.templates.size).toBe(2);
  });
});
