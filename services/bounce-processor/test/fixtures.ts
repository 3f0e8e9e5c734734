import { randomUUID } from 'node:crypto';
import {
  createEnvelope,
  type CampaignId,
  type Envelope,
  type MessageId,
  type TenantId,
} from '@relais/domain';
import { openMigratedStore, storeDrivers, type Driver } from '@relais/model/testing';
import type { Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';

export const logger = createLogger({ service: 'bounce-processor-test', level: 'silent' });

export type { Driver } from '@relais/model/testing';

/** Embedded PGlite always; the real PostgreSQL when it answers (CI requires it). */
export const drivers = await storeDrivers('relais_bounce', logger);

/** A migrated store of the given driver. */
export const openMigrated = (driver: Driver) => openMigratedStore(driver, logger);

export async function seedTenant(store: Store): Promise<TenantId> {
  const id = randomUUID() as TenantId;
  await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 'tenant')`, [id]);
  return id;
}

/** A sent message row to `email` (messages carry no foreign keys, so nothing else is needed). */
export async function seedMessage(
  store: Store,
  tenantId: TenantId,
  email: string,
): Promise<{ messageId: MessageId; campaignId: CampaignId }> {
  const messageId = randomUUID() as MessageId;
  const campaignId = randomUUID() as CampaignId;
  await store.query(
    `INSERT INTO messages (id, tenant_id, campaign_id, contact_id, email, domain, variant, state)
     VALUES ($1, $2, $3, $4, $5, $6, 'A', 'sent')`,
    [messageId, tenantId, campaignId, randomUUID(), email, email.split('@')[1]],
  );
  return { messageId, campaignId };
}

/** A `delivery.bounced` event as the relay publishes it. */
export function bouncedEnvelope(
  tenantId: TenantId,
  message: { messageId: MessageId; campaignId?: CampaignId },
  line: string,
  relayView: { reason: string; hard: boolean } = { reason: 'relay', hard: false },
): Envelope<'delivery.bounced'> {
  const match = /^(\d{3})[ -](?:(\d\.\d{1,3}\.\d{1,3}) )?/.exec(line);
  return createEnvelope({
    type: 'delivery.bounced',
    tenantId,
    data: {
      messageId: message.messageId,
      ...(message.campaignId === undefined ? {} : { campaignId: message.campaignId }),
      recipientDomain: 'example.org',
      pool: 'default',
      attempt: 1,
      reply: {
        ...(match?.[1] === undefined ? {} : { code: Number(match[1]) }),
        ...(match?.[2] === undefined ? {} : { enhanced: match[2] }),
        text: line,
      },
      ...relayView,
      confidence: 0.5,
    },
  });
}

export interface BounceRow {
  id: string;
  message_id: string;
  campaign_id: string | null;
  email: string;
  source: string;
  reason: string;
  hard: boolean;
  confidence: number;
  status: string | null;
  reply_code: number | null;
  diagnostic: string | null;
}

export async function bouncesOf(store: Store, tenantId: TenantId): Promise<BounceRow[]> {
  const { rows } = await store.query<BounceRow>(
    `SELECT id, message_id, campaign_id, email, source, reason, hard, confidence, status,
            reply_code, diagnostic
     FROM bounces WHERE tenant_id = $1 ORDER BY created_at, id`,
    [tenantId],
  );
  return rows;
}

export async function suppressionsOf(
  store: Store,
  tenantId: TenantId,
): Promise<Array<{ kind: string; value: string; reason: string; source: string }>> {
  const { rows } = await store.query<{
    kind: string;
    value: string;
    reason: string;
    source: string;
  }>(`SELECT kind, value, reason, source FROM suppressions WHERE tenant_id = $1 ORDER BY value`, [
    tenantId,
  ]);
  return rows;
}

/** The `suppression.added` envelopes of a tenant waiting in (or published from) the outbox. */
export async function outboxSuppressionsOf(
  store: Store,
  tenantId: TenantId,
): Promise<Array<Envelope<'suppression.added'>>> {
  const { rows } = await store.query<{ envelope: Envelope<'suppression.added'> | string }>(
    `SELECT envelope FROM outbox WHERE tenant_id = $1 AND type = 'suppression.added'`,
    [tenantId],
  );
  return rows.map((row) =>
    typeof row.envelope === 'string'
      ? (JSON.parse(row.envelope) as Envelope<'suppression.added'>)
      : row.envelope,
  );
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
