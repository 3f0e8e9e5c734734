import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageId } from '@relais/domain';
import type { Store } from '@relais/store';
import { createSqlBounceStore } from '../src/adapters/sql-bounce-store';
import { onDeliveryBounced } from '../src/handlers/on-delivery-bounced';
import type { BounceProcessorPorts } from '../src/ports';
import {
  bouncedEnvelope,
  bouncesOf,
  drivers,
  logger,
  openMigrated,
  outboxSuppressionsOf,
  seedMessage,
  seedTenant,
  suppressionsOf,
} from './fixtures';

describe.each(drivers)('onDeliveryBounced on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  let ports: BounceProcessorPorts;

  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
    ports = { bounces: createSqlBounceStore(store), logger };
  });
  afterAll(() => drop());

  it('records a hard bounce, suppresses the address and announces it once, however often the event comes', async () => {
    const tenantId = await seedTenant(store);
    const message = await seedMessage(store, tenantId, 'ghost@example.org');
    const envelope = bouncedEnvelope(
      tenantId,
      message,
      '550-5.1.1 The email account that you tried to reach does not exist.',
    );

    await onDeliveryBounced(envelope, ports);
    await onDeliveryBounced(envelope, ports);

    const bounces = await bouncesOf(store, tenantId);
    expect(bounces).toHaveLength(1);
    expect(bounces[0]).toMatchObject({
      id: envelope.id,
      message_id: message.messageId,
      campaign_id: message.campaignId,
      email: 'ghost@example.org',
      source: 'smtp',
      reason: 'userunknown',
      hard: true,
      status: '5.1.1',
      reply_code: 550,
      diagnostic: '550-5.1.1 The email account that you tried to reach does not exist.',
    });
    expect(bounces[0]?.confidence).toBeCloseTo(0.95);
    expect(await suppressionsOf(store, tenantId)).toEqual([
      {
        kind: 'address',
        value: 'ghost@example.org',
        reason: 'hard bounce: userunknown 5.1.1',
        source: 'bounce',
      },
    ]);
    const announced = await outboxSuppressionsOf(store, tenantId);
    expect(announced.map((event) => event.data)).toEqual([
      {
        email: 'ghost@example.org',
        reason: 'hard bounce: userunknown 5.1.1',
        class: 'userunknown',
        confidence: 0.95,
      },
    ]);
  });

  it('records a soft bounce without suppressing, even when the relay called it hard', async () => {
    const tenantId = await seedTenant(store);
    const message = await seedMessage(store, tenantId, 'full@example.org');

    await onDeliveryBounced(
      bouncedEnvelope(tenantId, message, '552 5.2.2 Mailbox full', { reason: 'x', hard: true }),
      ports,
    );

    expect(await bouncesOf(store, tenantId)).toMatchObject([
      { reason: 'mailboxfull', hard: false, status: '5.2.2', reply_code: 552 },
    ]);
    expect(await suppressionsOf(store, tenantId)).toEqual([]);
    expect(await outboxSuppressionsOf(store, tenantId)).toEqual([]);
  });

  it('acknowledges a bounce of an unknown message and writes nothing', async () => {
    const tenantId = await seedTenant(store);
    await expect(
      onDeliveryBounced(
        bouncedEnvelope(tenantId, { messageId: randomUUID() as MessageId }, '550 5.1.1 unknown'),
        ports,
      ),
    ).resolves.toBeUndefined();

    expect(await bouncesOf(store, tenantId)).toEqual([]);
    expect(await suppressionsOf(store, tenantId)).toEqual([]);
    expect(await outboxSuppressionsOf(store, tenantId)).toEqual([]);
  });

  it("does not act on another tenant's message", async () => {
    const owner = await seedTenant(store);
    const stranger = await seedTenant(store);
    const message = await seedMessage(store, owner, 'victim@example.org');

    await onDeliveryBounced(bouncedEnvelope(stranger, message, '550 5.1.1 unknown'), ports);

    expect(await bouncesOf(store, owner)).toEqual([]);
    expect(await bouncesOf(store, stranger)).toEqual([]);
    expect(await suppressionsOf(store, owner)).toEqual([]);
  });

  it('records a second hard bounce of an already suppressed address without announcing it again', async () => {
    const tenantId = await seedTenant(store);
    await store.query(
      `INSERT INTO suppressions (tenant_id, kind, value, reason) VALUES ($1, 'address', $2, 'api')`,
      [tenantId, 'gone@example.org'],
    );
    const message = await seedMessage(store, tenantId, 'gone@example.org');

    await onDeliveryBounced(bouncedEnvelope(tenantId, message, '550 5.1.1 no such user'), ports);

    expect(await bouncesOf(store, tenantId)).toMatchObject([{ reason: 'userunknown', hard: true }]);
    expect(await suppressionsOf(store, tenantId)).toMatchObject([{ reason: 'api', source: 'api' }]);
    expect(await outboxSuppressionsOf(store, tenantId)).toEqual([]);
  });

  it('writes nothing at all when the transaction fails half-way', async () => {
    const tenantId = await seedTenant(store);
    const message = await seedMessage(store, tenantId, 'ghost2@example.org');
    const envelope = bouncedEnvelope(tenantId, message, '550 5.1.1 user unknown');
    // The suppression's tenant does not exist: its foreign key fails after the bounce insert.
    const failing: BounceProcessorPorts = {
      logger,
      bounces: {
        findMessage: (tenant, id) => ports.bounces.findMessage(tenant, id),
        recordBounce: (record, suppression) =>
          ports.bounces.recordBounce(
            record,
            suppression && { ...suppression, tenantId: randomUUID() as typeof tenantId },
          ),
      },
    };

    await expect(onDeliveryBounced(envelope, failing)).rejects.toThrow();
    expect(await bouncesOf(store, tenantId)).toEqual([]);

    // The retry (with a healthy store) then does all of it.
    await onDeliveryBounced(envelope, ports);
    expect(await bouncesOf(store, tenantId)).toHaveLength(1);
    expect(await suppressionsOf(store, tenantId)).toHaveLength(1);
  });
});
