import { afterAll, beforeAll, describe } from 'vitest';
import { createLogger } from '@relais/telemetry';
import { createTestVhost, probe, type TestVhost } from '@relais/testing';
import { createRabbitTransport } from '../src/rabbitmq';
import { defineTransportContract } from './contract';

const rabbit = await probe('rabbitmq');

describe.runIf(rabbit.available)('rabbitmq transport', () => {
  // One vhost for the file (rabbitmqctl costs seconds per call); every case declares its
  // own namespace in it, so cases stay isolated.
  let vhost: TestVhost;
  const logger = createLogger({ service: 'bus-contract-rabbitmq', level: 'silent' });

  beforeAll(async () => {
    vhost = await createTestVhost('relais_bus_contract');
  });

  afterAll(async () => {
    await vhost?.cleanup();
  });

  defineTransportContract('rabbitmq', async () => {
    const transport = await createRabbitTransport({ url: vhost.url, logger, reconnectDelayMs: 50 });
    return {
      transport,
      killConnection: () => transport.debugKillConnection(),
      cleanup: () => transport.close(),
    };
  });
});
