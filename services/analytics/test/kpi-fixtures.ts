import {
  createEnvelope,
  type CampaignId,
  type Envelope,
  type MessageId,
  type MessageInput,
  type TenantId,
} from '@relais/domain';
import type { Store } from '@relais/store';
import { createSqlKpiStore } from '../src/adapters/sql-kpi-store';
import { withKpis } from '../src/handlers/record-kpis';
import { createKpiBatcher } from '../src/outcome-batcher';
import type { AnalyticsPorts } from '../src/ports';
import { seedCampaign } from './fixtures';

/** A campaign whose messages go to the given domains, variants alternating A / B. */
export async function seedKpiCampaign(
  store: Store,
  tenantId: TenantId,
  domains: readonly string[],
): Promise<{ campaignId: CampaignId; messageIds: MessageId[] }> {
  const seeded = await seedCampaign(store, tenantId, { states: domains.map(() => 'queued') });
  for (const [index, messageId] of seeded.messageIds.entries()) {
    await store.query(`UPDATE messages SET domain = $2, variant = $3 WHERE id = $1`, [
      messageId,
      domains[index],
      index % 2 === 0 ? 'A' : 'B',
    ]);
  }
  return seeded;
}

type DeliveryType =
  'delivery.delivered' | 'delivery.deferred' | 'delivery.bounced' | 'delivery.expired';

/** A delivery event of a message to `domain` through `pool`, at `at`. */
export function delivery<T extends DeliveryType>(
  type: T,
  tenantId: TenantId,
  messageId: MessageId,
  options: { domain: string; pool: string; at: Date; hard?: boolean },
): Envelope<T> {
  const base = { messageId, recipientDomain: options.domain, pool: options.pool, attempt: 1 };
  const extra =
    type === 'delivery.deferred'
      ? { retryAt: options.at.toISOString(), reason: 'greylisted' }
      : type === 'delivery.bounced'
        ? { reason: 'userunknown', hard: options.hard ?? true, confidence: 1 }
        : {};
  return createEnvelope<T>({
    type,
    tenantId,
    occurredAt: options.at,
    data: { ...base, ...extra } as MessageInput<T>,
  });
}

/** An engagement (or complaint) event at `at`. */
export function engagement<
  T extends
    | 'engagement.opened'
    | 'engagement.clicked'
    | 'engagement.unsubscribed'
    | 'engagement.converted'
    | 'complaint.received',
>(type: T, tenantId: TenantId, data: MessageInput<T>, at: Date): Envelope<T> {
  return createEnvelope<T>({ type, tenantId, occurredAt: at, data });
}

/** Records engagement events through the KPI batcher, as the consumer does. */
export function kpiRecorderFor(store: Store) {
  const kpis = createKpiBatcher({
    store: createSqlKpiStore(store),
    consumer: 'analytics-test:kpi',
    batchSize: 256,
  });
  const nothing = () => Promise.resolve();
  return {
    kpis,
    record: (envelope: Envelope, ports: AnalyticsPorts) => withKpis(nothing, kpis)(envelope, ports),
  };
}
