import { randomUUID } from 'node:crypto';
import {
  createEnvelope,
  type CampaignId,
  type Envelope,
  type MessageId,
  type TenantId,
} from '@relais/domain';
import { hashApiKeySecret, newApiKeyMaterial } from '@relais/http-api';
import { openMigratedStore, storeDrivers, type Driver } from '@relais/model/testing';
import type { Queryable, Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { createSqlAnalyticsStore } from '../src/adapters/sql-analytics-store';
import { createOutcomeBatcher } from '../src/outcome-batcher';
import type { AnalyticsPorts } from '../src/ports';

export const logger = createLogger({ service: 'analytics-test', level: 'silent' });

export type { Driver } from '@relais/model/testing';

/** Embedded PGlite always; the real PostgreSQL when it answers (CI requires it). */
export const drivers = await storeDrivers('relais_analytics', logger);

/** A migrated store of the given driver. */
export const openMigrated = (driver: Driver) => openMigratedStore(driver, logger);

/** Handler ports over the real SQL adapter. */
export function portsFor(store: Store, counterShards = 16): AnalyticsPorts {
  const analytics = createSqlAnalyticsStore(store);
  const outcomes = createOutcomeBatcher({
    store: analytics,
    consumer: 'analytics-test',
    batchSize: 256,
  });
  return { store: analytics, outcomes, counterShards, logger };
}

/** A tenant and a working API key for it. */
export async function seedTenant(store: Store): Promise<{ tenantId: TenantId; key: string }> {
  const tenantId = randomUUID() as TenantId;
  await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 'tenant')`, [tenantId]);
  const { prefix, secret, key } = newApiKeyMaterial();
  await store.query(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash) VALUES ($1, $2, 'test', $3, $4)`,
    [randomUUID(), tenantId, prefix, hashApiKeySecret(secret)],
  );
  return { tenantId, key };
}

/**
 * A campaign as segmentation leaves it once recipients are resolved (`sending`, unless
 * told), with one message row per entry of `states` (all `queued` by default).
 */
export async function seedCampaign(
  store: Store,
  tenantId: TenantId,
  options: { status?: string; states?: readonly string[] } = {},
): Promise<{ campaignId: CampaignId; messageIds: MessageId[] }> {
  const segmentId = randomUUID();
  const campaignId = randomUUID() as CampaignId;
  await store.query(
    `INSERT INTO segments (id, tenant_id, name, rules) VALUES ($1, $2, 'segment', '{"all": true}')`,
    [segmentId, tenantId],
  );
  await store.query(
    `INSERT INTO campaigns (id, tenant_id, name, status, message_class, from_email, segment_id,
                            launched_at, recipients_resolved_at)
     VALUES ($1, $2, 'campaign', $3, 'marketing', 'news@sender.test', $4, now(), now())`,
    [campaignId, tenantId, options.status ?? 'sending', segmentId],
  );
  const messageIds: MessageId[] = [];
  for (const state of options.states ?? ['queued']) {
    const contactId = randomUUID();
    const email = `${contactId.slice(0, 8)}@example.test`;
    await store.query(
      `INSERT INTO contacts (id, tenant_id, email, domain) VALUES ($1, $2, $3, 'example.test')`,
      [contactId, tenantId, email],
    );
    const { rows } = await store.query<{ id: MessageId }>(
      `INSERT INTO messages (tenant_id, campaign_id, contact_id, email, domain, variant, state)
       VALUES ($1, $2, $3, $4, 'example.test', 'A', $5) RETURNING id`,
      [tenantId, campaignId, contactId, email, state],
    );
    messageIds.push(rows[0]!.id);
  }
  return { campaignId, messageIds };
}

type DeliveryType =
  'delivery.delivered' | 'delivery.deferred' | 'delivery.bounced' | 'delivery.expired';

/** A delivery event as the relay publishes it (a fresh envelope id each time). */
export function deliveryEvent<T extends DeliveryType>(
  type: T,
  tenantId: TenantId,
  messageId: MessageId,
  campaignId: CampaignId,
  extra: { hard?: boolean; attempt?: number } = {},
): Envelope<T> {
  const base = {
    messageId,
    campaignId,
    recipientDomain: 'example.test',
    pool: 'default',
    attempt: extra.attempt ?? 1,
  };
  const data =
    type === 'delivery.deferred'
      ? { ...base, retryAt: new Date().toISOString(), reason: '451 4.7.1 greylisted' }
      : type === 'delivery.bounced'
        ? {
            ...base,
            reason: extra.hard === false ? 'mailboxfull' : 'userunknown',
            hard: extra.hard ?? true,
            confidence: 1,
          }
        : { ...base, reply: { code: 250, text: '250 2.0.0 OK' } };
  // The data matches `type` by construction; the union is wider than the compiler can follow.
  return createEnvelope<T>({ type, tenantId, data: data as never });
}

export interface MessageRow {
  state: string;
  attempts: number;
  last_reason: string | null;
  final_at: Date | null;
}

export async function messageRow(db: Queryable, messageId: MessageId): Promise<MessageRow> {
  const { rows } = await db.query<MessageRow>(
    `SELECT state, attempts, last_reason, final_at FROM messages WHERE id = $1`,
    [messageId],
  );
  return rows[0]!;
}

/** Counter sums of a campaign, by counter name. */
export async function countersOf(
  db: Queryable,
  campaignId: CampaignId,
): Promise<Record<string, number>> {
  const { rows } = await db.query<{ counter: string; value: string }>(
    `SELECT counter, sum(value) AS value FROM campaign_counters WHERE campaign_id = $1 GROUP BY counter`,
    [campaignId],
  );
  return Object.fromEntries(rows.map((row) => [row.counter, Number(row.value)]));
}

/** The `campaign.completed` envelopes the outbox holds for a campaign. */
export async function completedInOutbox(db: Queryable, campaignId: CampaignId): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM outbox WHERE type = 'campaign.completed' AND envelope -> 'data' ->> 'campaignId' = $1`,
    [campaignId],
  );
  return Number(rows[0]!.n);
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
