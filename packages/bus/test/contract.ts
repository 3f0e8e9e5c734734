import { afterEach, describe } from 'vitest';
import { Registry, createLogger } from '@relais/telemetry';
import { uniqueName } from '@relais/testing';
import {
  MessageBus,
  createMemoryDedupeStore,
  deadLetterQueueName,
  type Delivery,
} from '../src/index';
import {
  DELIVERY_LIMIT,
  MAX_ATTEMPTS,
  RETRY_TIERS_MS,
  type Case,
  type ContractHarness,
} from './contract-helpers';
import { defineDeliveryCases } from './contract-delivery';
import { defineFailureCases } from './contract-failures';

/**
 * The behaviour every Transport must show under the MessageBus, written against the port
 * only so the same cases run on the memory adapter and on a real RabbitMQ. Timings are
 * generous lower bounds and polling upper bounds: a real broker adds latency, never speed.
 */

export type { ContractHarness } from './contract-helpers';

const silent = createLogger({ service: 'bus-contract', level: 'silent' });

/** Registers the transport contract cases for one adapter. */
export function defineTransportContract(
  name: string,
  factory: () => Promise<ContractHarness>,
): void {
  describe(`bus contract: ${name}`, () => {
    let current: Case | undefined;

    afterEach(async () => {
      const done = current;
      current = undefined;
      if (done === undefined) return;
      for (const release of done.onDispose) release();
      try {
        await done.bus.close();
      } finally {
        await done.harness.cleanup();
      }
    });

    async function setup(): Promise<Case> {
      const harness = await factory();
      const ns = uniqueName('contract');
      const workQueue = `${ns}.work`;
      const registry = new Registry();
      const bus = new MessageBus({
        transport: harness.transport,
        logger: silent,
        metrics: registry,
        namespace: ns,
        retryTiersMs: RETRY_TIERS_MS,
        maxAttempts: MAX_ATTEMPTS,
        deliveryLimit: DELIVERY_LIMIT,
        dedupe: createMemoryDedupeStore(),
      });
      const deadLetters: Delivery[] = [];
      const created: Case = {
        harness,
        transport: harness.transport,
        bus,
        registry,
        ns,
        workQueue,
        deadLetters,
        onDispose: [],
        async readDeadLetters() {
          await harness.transport.consume(
            deadLetterQueueName(ns),
            async (delivery) => {
              deadLetters.push(delivery);
              delivery.ack();
            },
            { prefetch: 16 },
          );
        },
      };
      current = created;
      await bus.declare([
        { name: workQueue, bindings: [{ exchange: 'events', routingKey: 'delivery.*' }] },
      ]);
      return created;
    }

    defineDeliveryCases(setup);
    defineFailureCases(setup);
  });
}
