import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { deadLetterQueueName } from '@relais/bus';
import type { Envelope } from '@relais/domain';
import { parseVerp } from '@relais/mail';
import { startPlatform, type Platform } from '@relais/platform';
import { createDkimKeyStore } from '@relais/simulator';
import { uniqueName } from '@relais/testing';
import { dispatcherConfigSchema, startDispatcher, type DispatcherHandle } from '../src/index';
import {
  BOUNCE_SECRET,
  UNSUBSCRIBE_SECRET,
  manyRecipients,
  seedBatch,
  seedCampaign,
  seedTemplate,
  seedTenant,
  statesOf,
  waitFor,
} from './fixtures';

describe('dispatcher on the embedded platform (memory bus, PGlite, generated keys)', () => {
  const namespace = uniqueName('disp').replace(/_/g, '-');
  const config = dispatcherConfigSchema.parse({
    dataDir: 'memory://',
    httpPort: 0,
    logLevel: 'silent',
    namespace,
    sendingDomain: 'sender.test',
    bounceDomain: 'bounces.sender.test',
    bounceSecret: BOUNCE_SECRET,
    unsubscribeBaseUrl: 'https://u.sender.test',
    unsubscribeSecret: UNSUBSCRIBE_SECRET,
  });
  let platform: Platform;
  let handle: DispatcherHandle;
  const relayed: Array<Envelope<'outbound.send'>> = [];
  const deadLettered: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform('dispatcher-test', config);
    handle = await startDispatcher(platform, config);
    await platform.bus.subscribe(`${namespace}.relay.default.marketing`, {
      'outbound.send': async (envelope) => void relayed.push(envelope),
    });
    const record = async (envelope: Envelope) => void deadLettered.push(envelope.type);
    await platform.bus.subscribe(deadLetterQueueName(namespace), {
      'dispatch.batch': record,
      'outbound.send': record,
    });
  });
  afterAll(() => platform.runtime.stop('test'));

  it('turns a published dispatch.batch into signed messages on the relay queue', async () => {
    const { store } = platform;
    const tenantId = await seedTenant(store);
    const campaignId = await seedCampaign(store, tenantId);
    const templateId = await seedTemplate(store, tenantId);
    const batch = await seedBatch(store, tenantId, campaignId, manyRecipients(40, templateId));
    await platform.bus.publish(batch);

    await waitFor(() => relayed.length === 40);
    expect(handle.pools).toEqual(['default']);
    const keys = createDkimKeyStore(handle.dkimPublicKeys);
    const first = relayed[0]!;
    const verdict = await dkimVerify(Buffer.from(first.data.rawBase64, 'base64'), {
      resolver: keys.resolver,
    });
    expect(verdict.results.map((result) => result.status.result)).toEqual(['pass', 'pass']);
    expect(parseVerp(first.data.mailFrom, BOUNCE_SECRET)).toEqual({
      ok: true,
      messageId: first.data.messageId,
    });
    const states = await statesOf(
      store,
      batch.data.recipients.map((r) => r.messageId),
    );
    expect(new Set(states.values())).toEqual(new Set(['queued']));
    expect(deadLettered).toEqual([]);
  });
});
