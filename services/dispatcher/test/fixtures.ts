import { randomUUID } from 'node:crypto';
import { createMemoryTransport, MessageBus, relaisWorkQueues } from '@relais/bus';
import type { CampaignId, Envelope, TenantId } from '@relais/domain';
import { createEnvelope } from '@relais/domain';
import { openMigratedStore, storeDrivers, type Driver } from '@relais/model/testing';
import type { Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { uniqueName } from '@relais/testing';
import { createSqlDispatchStore } from '../src/adapters/sql-dispatch-store';
import { dispatcherSettingsSchema, type DispatcherSettings } from '../src/config';
import { createCompiledTemplates } from '../src/domain/compiled-templates';
import { createPoolRouter, poolsOf } from '../src/domain/pool-routing';
import { mailIdentityOf } from '../src/index';
import type { DispatcherPorts, OutboundPublisher } from '../src/ports';

export const logger = createLogger({ service: 'dispatcher-test', level: 'silent' });

export const BOUNCE_SECRET = 'bounce-secret-of-at-least-32-bytes!!';
export const UNSUBSCRIBE_SECRET = 'unsubscribe-secret-of-32-bytes-or-more';
export const NOW = new Date('2026-06-01T09:30:00Z');

/** Settings as an operator would write them: two pools besides `default`, keys generated. */
export const settings: DispatcherSettings = dispatcherSettingsSchema.parse({
  sendingDomain: 'mail.sender.test',
  bounceDomain: 'bounces.sender.test',
  bounceSecret: BOUNCE_SECRET,
  unsubscribeBaseUrl: 'https://u.sender.test',
  unsubscribeSecret: UNSUBSCRIBE_SECRET,
  dkim: { domain: 'sender.test' },
  routing: {
    rules: [
      { messageClass: 'transactional', pool: 'tx' },
      { recipientDomains: ['gmail.test', '*.yahoo.test'], pool: 'warm' },
    ],
  },
});

/** One identity (and one generated RSA key) for the whole file. */
export const mail = mailIdentityOf(settings);

export type { Driver } from '@relais/model/testing';

/** Embedded PGlite always; the real PostgreSQL when it answers (CI requires it). */
export const drivers = await storeDrivers('relais_dispatcher', logger);

/** A migrated store of the given driver. */
export const openMigrated = (driver: Driver) => openMigratedStore(driver, logger);

/** What reached one relay queue. */
export interface Relayed {
  queue: string;
  envelope: Envelope<'outbound.send'>;
}

/**
 * The real MessageBus on the in-memory transport, with the relay queues of every pool the
 * settings route to and a consumer on each recording what it was handed (after the
 * consumer runtime's dedupe by envelope id, as a relay would see it).
 */
export async function relayBus(): Promise<{
  bus: MessageBus;
  relayed: Relayed[];
  close(): Promise<void>;
}> {
  const namespace = uniqueName('disp').replace(/_/g, '-');
  const bus = new MessageBus({ transport: createMemoryTransport(), logger, namespace });
  const pools = poolsOf(settings.routing);
  await bus.declare(relaisWorkQueues(namespace, pools));
  const relayed: Relayed[] = [];
  for (const pool of pools) {
    for (const messageClass of ['marketing', 'transactional']) {
      const queue = `${namespace}.relay.${pool}.${messageClass}`;
      await bus.subscribe(queue, {
        'outbound.send': async (envelope) =>
          void relayed.push({ queue: `${pool}.${messageClass}`, envelope }),
      });
    }
  }
  return { bus, relayed, close: () => bus.close() };
}

/** Handler ports over the real SQL adapter; `publish` defaults to the given bus. */
export function portsFor(
  store: Store,
  publish: OutboundPublisher,
  overrides: Partial<DispatcherPorts> = {},
): DispatcherPorts {
  return {
    store: createSqlDispatchStore(store),
    publish,
    templates: createCompiledTemplates(),
    identity: mail.identity,
    route: createPoolRouter(settings.routing),
    now: () => NOW,
    logger,
    ...overrides,
  };
}

export async function seedTenant(store: Store): Promise<TenantId> {
  const id = randomUUID() as TenantId;
  await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 'tenant')`, [id]);
  return id;
}

/** A template's parts; missing ones take a plain newsletter. */
export interface TemplateSeed {
  subject?: string;
  html?: string | null;
  text?: string | null;
}

export async function seedTemplate(
  store: Store,
  tenantId: TenantId,
  seed: TemplateSeed = {},
): Promise<string> {
  const id = randomUUID();
  await store.query(
    `INSERT INTO templates (id, tenant_id, name, subject, html, text) VALUES ($1, $2, 'template', $3, $4, $5)`,
    [
      id,
      tenantId,
      seed.subject ?? 'Hello {{ contact.first_name | default: "there" }}',
      seed.html === undefined
        ? '<p>Hi {{ contact.first_name }}, news from {{ campaign.name }}.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
        : seed.html,
      seed.text === undefined
        ? 'Hi {{ contact.first_name }}.\nUnsubscribe: {{ unsubscribe_url }}\n'
        : seed.text,
    ],
  );
  return id;
}

export interface CampaignSeed {
  messageClass?: 'marketing' | 'transactional';
  status?: string;
  fromName?: string | null;
  replyTo?: string | null;
}

/** A campaign in status `sending` (unless told) of one variant `A`. */
export async function seedCampaign(
  store: Store,
  tenantId: TenantId,
  seed: CampaignSeed = {},
): Promise<CampaignId> {
  const segmentId = randomUUID();
  const campaignId = randomUUID() as CampaignId;
  await store.query(
    `INSERT INTO segments (id, tenant_id, name, rules) VALUES ($1, $2, 'segment', '{"all": true}')`,
    [segmentId, tenantId],
  );
  await store.query(
    `INSERT INTO campaigns (id, tenant_id, name, status, message_class, from_email, from_name, reply_to, segment_id, launched_at)
     VALUES ($1, $2, 'Spring sale', $3, $4, 'news@sender.test', $5, $6, $7, now())`,
    [
      campaignId,
      tenantId,
      seed.status ?? 'sending',
      seed.messageClass ?? 'marketing',
      seed.fromName === undefined ? 'Sender News' : seed.fromName,
      seed.replyTo === undefined ? 'help@sender.test' : seed.replyTo,
      segmentId,
    ],
  );
  return campaignId;
}

/** A recipient as a test describes it. */
export interface RecipientSeed {
  email: string;
  attributes?: Record<string, unknown>;
  templateId: string;
  state?: string;
}

/** Message rows (state `queued` unless told), and the batch segmentation would publish. */
export async function seedBatch(
  store: Store,
  tenantId: TenantId,
  campaignId: CampaignId,
  recipients: readonly RecipientSeed[],
  messageClass: 'marketing' | 'transactional' = 'marketing',
): Promise<Envelope<'dispatch.batch'>> {
  const rows = recipients.map((recipient) => ({
    ...recipient,
    messageId: randomUUID(),
    contactId: randomUUID(),
  }));
  for (const row of rows) {
    await store.query(
      `INSERT INTO messages (id, tenant_id, campaign_id, contact_id, email, domain, variant, state)
       VALUES ($1, $2, $3, $4, $5, $6, 'A', $7)`,
      [
        row.messageId,
        tenantId,
        campaignId,
        row.contactId,
        row.email,
        row.email.slice(row.email.lastIndexOf('@') + 1),
        row.state ?? 'queued',
      ],
    );
  }
  return createEnvelope({
    type: 'dispatch.batch',
    tenantId,
    data: {
      campaignId,
      batch: 0,
      messageClass,
      recipients: rows.map((row) => ({
        messageId: row.messageId,
        contactId: row.contactId,
        email: row.email,
        variant: 'A',
        templateId: row.templateId,
        attributes: row.attributes ?? {},
      })),
    },
  });
}

/** `count` recipients `r<n>@<domain>` with a first name, on one template. */
export function manyRecipients(count: number, templateId: string, domain = 'example.test') {
  return Array.from({ length: count }, (_, n) => ({
    email: `r${n}@${domain}`,
    attributes: { first_name: `Name${n}` },
    templateId,
  }));
}

export async function statesOf(store: Store, ids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await store.query<{ id: string; state: string }>(
    `SELECT id, state FROM messages WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row.state]));
}

/** Waits until `check` holds, polling; the memory bus delivers asynchronously. */
export async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
