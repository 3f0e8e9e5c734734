import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelaisError, type Envelope } from '@relais/domain';
import type { Store } from '@relais/store';
import { createSqlSubmissionStore } from '../src/adapters/sql-submission-store';
import { createPoolRouter } from '../src/domain/pool-routing';
import { submitMessage, type Submission } from '../src/handlers/submit-message';
import type { OutboundPublisher, SubmissionPorts } from '../src/ports';
import { drivers, logger, mail, NOW, openMigrated, seedTenant, settings } from './fixtures';

describe.each(drivers)('submitMessage on $name', (driver) => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, drop } = await openMigrated(driver));
  });
  afterAll(() => drop());

  const portsWith = (publish: OutboundPublisher): SubmissionPorts => ({
    store: createSqlSubmissionStore(store),
    publish,
    identity: mail.identity,
    route: createPoolRouter(settings.routing),
    limits: { maxRecipients: 3, maxMessageBytes: 10_000 },
    now: () => NOW,
    newId: randomUUID,
    logger,
  });
  const failing: OutboundPublisher = () =>
    Promise.reject(new RelaisError('BUS_PUBLISH_FAILED', 'broker did not confirm'));

  const statesOf = async (tenantId: string) =>
    (
      await store.query<{ state: string }>(
        `SELECT state FROM messages WHERE tenant_id = $1 ORDER BY email`,
        [tenantId],
      )
    ).rows.map((row) => row.state);

  const submission = (tenantId: Submission['tenantId'], extra: Partial<Submission> = {}) =>
    ({
      tenantId,
      source: 'http',
      recipients: ['ana@example.test', 'bo@example.test'],
      content: { kind: 'parts', from: { address: 'shop@sender.test' }, subject: 's', text: 't' },
      ...extra,
    }) satisfies Submission;

  it('routes submitted mail to the transactional pool of the routing rules', async () => {
    const tenantId = await seedTenant(store);
    const published: Array<Envelope<'outbound.send'>> = [];
    await submitMessage(
      submission(tenantId),
      portsWith(async (envelopes) => void published.push(...envelopes)),
    );
    expect(published.map((envelope) => [envelope.data.pool, envelope.data.messageClass])).toEqual([
      ['tx', 'transactional'],
      ['tx', 'transactional'],
    ]);
  });

  it('records suppressed addresses and domains as suppressed and publishes only the others', async () => {
    const tenantId = await seedTenant(store);
    await store.query(
      `INSERT INTO suppressions (tenant_id, kind, value, reason) VALUES ($1, 'address', 'ana@example.test', 'hard_bounce'), ($1, 'domain', 'gone.test', 'api')`,
      [tenantId],
    );
    const published: Array<Envelope<'outbound.send'>> = [];
    const receipt = await submitMessage(
      submission(tenantId, { recipients: ['ana@example.test', 'bo@example.test', 'cy@gone.test'] }),
      portsWith(async (envelopes) => void published.push(...envelopes)),
    );
    expect(receipt.messages.map((m) => [m.to, m.state])).toEqual([
      ['ana@example.test', 'suppressed'],
      ['bo@example.test', 'queued'],
      ['cy@gone.test', 'suppressed'],
    ]);
    expect(published.map((envelope) => envelope.data.rcptTo)).toEqual(['bo@example.test']);
    expect(await statesOf(tenantId)).toEqual(['suppressed', 'queued', 'suppressed']);
  });

  it('rethrows a failed publish and marks the rows failed when nobody can retry them', async () => {
    const tenantId = await seedTenant(store);
    await expect(submitMessage(submission(tenantId), portsWith(failing))).rejects.toMatchObject({
      code: 'BUS_PUBLISH_FAILED',
    });
    expect(await statesOf(tenantId)).toEqual(['failed', 'failed']);
  });

  it('keeps the rows queued under an idempotency key and republishes them with the same envelope ids', async () => {
    const tenantId = await seedTenant(store);
    const withKey = submission(tenantId, { idempotencyKey: 'reset-7' });
    await expect(submitMessage(withKey, portsWith(failing))).rejects.toThrow();
    expect(await statesOf(tenantId)).toEqual(['queued', 'queued']);
    const published: Array<Envelope<'outbound.send'>> = [];
    const receipt = await submitMessage(
      withKey,
      portsWith(async (envelopes) => void published.push(...envelopes)),
    );
    expect(receipt.replayed).toBe(true);
    expect(published.map((envelope) => envelope.data.messageId)).toEqual(
      receipt.messages.map((message) => message.id),
    );
    expect(
      (await store.query(`SELECT 1 FROM messages WHERE tenant_id = $1`, [tenantId])).rowCount,
    ).toBe(2);
  });

  it('refuses bad recipients and too many of them before recording anything', async () => {
    const tenantId = await seedTenant(store);
    const ports = portsWith(async () => undefined);
    await expect(
      submitMessage(submission(tenantId, { recipients: ['a@x.test, b@x.test'] }), ports),
    ).rejects.toThrow('to is not a single valid address');
    await expect(
      submitMessage(
        submission(tenantId, { recipients: ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test'] }),
        ports,
      ),
    ).rejects.toThrow('at most 3 recipients');
    await expect(
      submitMessage(
        submission(tenantId, {
          content: { kind: 'raw', raw: Buffer.from('Subject: x\r\n\r\nx\r\n') },
        }),
        ports,
      ),
    ).rejects.toThrow('no From field');
    expect(await statesOf(tenantId)).toEqual([]);
  });
});
