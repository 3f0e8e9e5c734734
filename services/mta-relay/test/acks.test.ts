import { afterEach, describe, expect, it } from 'vitest';
import { RelaisError } from '@relais/domain';
import type { Transport } from '@relais/bus';
import { startHarness, waitFor, type Harness } from './helpers';

/** A transport wrapper that can hold or fail event publishes and records outbound acks. */
function watchedTransport(inner: Transport, namespace: string) {
  const state = {
    acks: 0,
    failNextEventPublishes: 0,
    held: null as Promise<void> | null,
    confirmedEvents: 0,
  };
  const isEvent = (exchange: string) => exchange === `${namespace}.events`;
  const transport: Transport = {
    declare: (topology) => inner.declare(topology),
    ping: () => inner.ping(),
    close: () => inner.close(),
    async publish(message) {
      if (isEvent(message.exchange)) {
        if (state.held !== null) await state.held;
        if (state.failNextEventPublishes > 0) {
          state.failNextEventPublishes -= 1;
          throw new RelaisError('BUS_PUBLISH_FAILED', 'nacked by the test broker');
        }
        await inner.publish(message);
        state.confirmedEvents += 1;
        return;
      }
      await inner.publish(message);
    },
    consume(queue, onDelivery, options) {
      if (!queue.includes('.relay.')) return inner.consume(queue, onDelivery, options);
      return inner.consume(
        queue,
        (delivery) =>
          onDelivery({
            get body() {
              return delivery.body;
            },
            headers: delivery.headers,
            exchange: delivery.exchange,
            routingKey: delivery.routingKey,
            messageId: delivery.messageId,
            envelope: delivery.envelope,
            redelivered: delivery.redelivered,
            deliveryCount: delivery.deliveryCount,
            ack: () => {
              state.acks += 1;
              delivery.ack();
            },
            requeue: () => delivery.requeue(),
          }),
        options,
      );
    },
  };
  return { transport, state };
}

describe('acknowledgement of outbound messages', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('acks a message only once its outcome event is confirmed by the broker', async () => {
    let watched: ReturnType<typeof watchedTransport> | undefined;
    let release = () => {};
    harness = await startHarness({
      profiles: [{ name: 'mbox', domains: ['mbox.test'] }],
      wrapTransport: (inner, namespace) => {
        watched = watchedTransport(inner, namespace);
        return watched.transport;
      },
    });
    const state = watched!.state;
    state.held = new Promise<void>((resolve) => (release = resolve));
    const id = await harness.send('ivan@mbox.test');
    await harness.simulator.waitForAccepted(1);
    // Mail accepted, outcome not yet confirmed: the outbound message must still be unacked.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(state.acks).toBe(0);
    state.held = null;
    release();
    await waitFor(() => state.acks === 1);
    expect(state.confirmedEvents).toBeGreaterThanOrEqual(1);
    expect(harness.eventsOf(id).map((event) => event.type)).toEqual(['delivery.delivered']);
  });

  it('re-publishes an outcome the broker did not confirm, without sending the mail again', async () => {
    let watched: ReturnType<typeof watchedTransport> | undefined;
    harness = await startHarness({
      profiles: [{ name: 'mbox', domains: ['mbox.test'] }],
      wrapTransport: (inner, namespace) => {
        watched = watchedTransport(inner, namespace);
        return watched.transport;
      },
    });
    watched!.state.failNextEventPublishes = 2;
    const id = await harness.send('judy@mbox.test');
    await waitFor(() => harness!.eventsOf(id).length === 1);
    expect(harness.eventsOf(id)[0]?.type).toBe('delivery.delivered');
    expect(harness.simulator.stats().mbox?.messagesAccepted).toBe(1);
  });

  it('leaves the message unacked when its outcome cannot be published, then sends it again', async () => {
    let watched: ReturnType<typeof watchedTransport> | undefined;
    harness = await startHarness({
      profiles: [{ name: 'mbox', domains: ['mbox.test'] }],
      retryTiersMs: [100],
      wrapTransport: (inner, namespace) => {
        watched = watchedTransport(inner, namespace);
        return watched.transport;
      },
    });
    // One more failure than the relay's own publish retries: the handler gives up.
    watched!.state.failNextEventPublishes = 4;
    const id = await harness.send('kim@mbox.test');
    await waitFor(() => harness!.eventsOf(id).length === 1);
    expect(harness.eventsOf(id)[0]?.type).toBe('delivery.delivered');
    // At-least-once: the first send's outcome was lost, so the message went out twice.
    expect(harness.simulator.stats().mbox?.messagesAccepted).toBe(2);
    expect(harness.deadLettered).toEqual([]);
  });
});
