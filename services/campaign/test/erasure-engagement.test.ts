import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantId } from '@relais/domain';
import { openMigratedStore, storeDrivers } from '@relais/model/testing';
import type { Store } from '@relais/store';
import { createLogger } from '@relais/telemetry';
import { deleteContact } from '../src/adapters/contacts';

const logger = createLogger({ service: 'campaign-test', level: 'silent' });
const drivers = await storeDrivers('relais_erasure', logger);

describe.each(drivers)('erasure of an engaged contact on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, drop } = await openMigratedStore(driver, logger));
  });
  afterAll(async () => {
    await drop();
  });

  it('keeps opens, clicks and conversions as figures without the person', async () => {
    const tenantId = randomUUID() as TenantId;
    const contactId = randomUUID();
    const messageId = randomUUID();
    await store.query(`INSERT INTO tenants (id, name) VALUES ($1, 't')`, [tenantId]);
    await store.query(
      `INSERT INTO contacts (id, tenant_id, email, domain) VALUES ($1, $2, 'ana@x.test', 'x.test')`,
      [contactId, tenantId],
    );
    await store.query(
      `INSERT INTO messages (id, tenant_id, campaign_id, contact_id, email, domain, variant, state)
       VALUES ($1, $2, $3, $4, 'ana@x.test', 'x.test', 'A', 'delivered')`,
      [messageId, tenantId, randomUUID(), contactId],
    );
    await store.query(
      `INSERT INTO engagement_events (message_id, tenant_id, kind, machine, user_agent, occurred_at)
       VALUES ($1, $2, 'open', false, 'Mozilla/5.0 (Macintosh)', now())`,
      [messageId, tenantId],
    );
    await store.query(
      `INSERT INTO conversions (id, tenant_id, idempotency_key, message_id, contact_id, attribution, amount, currency, occurred_at)
       VALUES ($1, $2, 'k', $3, $4, 'message', 10, 'EUR', now())`,
      [randomUUID(), tenantId, messageId, contactId],
    );

    await deleteContact(store, tenantId, contactId);

    const events = await store.query<{ user_agent: string | null; machine: boolean }>(
      `SELECT user_agent, machine FROM engagement_events WHERE message_id = $1`,
      [messageId],
    );
    expect(events.rows).toEqual([{ user_agent: null, machine: false }]);
    const conversions = await store.query<{ contact_id: string | null; message_id: string }>(
      `SELECT contact_id, message_id FROM conversions WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(conversions.rows).toEqual([{ contact_id: null, message_id: messageId }]);
  });
});
