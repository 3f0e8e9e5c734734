import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRabbitTransport } from '@relais/bus';
import { createTestVhost, probe, type TestVhost } from '@relais/testing';
import { silentLogger, startHarness, waitFor, type Harness } from './helpers';

const rabbit = await probe('rabbitmq');

describe.runIf(rabbit.available)('relay on RabbitMQ', () => {
  let vhost: TestVhost;
  let harness: Harness;

  beforeAll(async () => {
    vhost = await createTestVhost('relais_relay');
    harness = await startHarness({
      profiles: [
        {
          name: 'mbox',
          domains: ['mbox.test'],
          unknownUsers: ['ghost'],
          greylist: true,
          greylistDelayMs: 100,
        },
      ],
      retryTiersMs: [300],
      transport: () => createRabbitTransport({ url: vhost.url, logger: silentLogger }),
    });
  });
  afterAll(async () => {
    await harness?.close();
    await vhost?.cleanup();
  });

  it('delivers through a real delay queue after greylisting, and bounces unknown users', async () => {
    const greylisted = await harness.send('lena@mbox.test');
    const unknown = await harness.send('ghost@mbox.test');
    await waitFor(
      () => harness.eventsOf(greylisted).length === 2 && harness.eventsOf(unknown).length === 1,
    );
    expect(harness.eventsOf(greylisted).map((event) => event.type)).toEqual([
      'delivery.deferred',
      'delivery.delivered',
    ]);
    expect(harness.eventsOf(unknown)[0]?.data).toMatchObject({
      hard: true,
      reply: { code: 550, enhanced: '5.1.1' },
    });
    expect(harness.deadLettered).toEqual([]);
  });
});
