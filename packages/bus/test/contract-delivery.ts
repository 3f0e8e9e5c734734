import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { RelaisError, createEnvelope, type Envelope } from '@relais/domain';
import { exchangeName, type HandlerContext, type Subscription } from '../src/index';
import { deferred, deliveredEvent, sleep, waitFor, type CaseSetup } from './contract-helpers';

/** Contract cases of the happy path and of connection loss: nothing confirmed is ever lost. */
export function defineDeliveryCases(setup: CaseSetup): void {
  it('delivers a published envelope to its handler, validated and intact', async () => {
    const c = await setup();
    const received: { envelope: Envelope<'delivery.delivered'>; context: HandlerContext }[] = [];
    await c.bus.subscribe(c.workQueue, {
      'delivery.delivered': async (envelope, context) => {
        received.push({ envelope, context });
      },
    });
    const sent = deliveredEvent();
    await c.bus.publish(sent);
    await waitFor('the handler to run', () => received.length === 1);
    expect(received[0]?.envelope).toEqual(sent);
    expect(received[0]?.context).toMatchObject({
      attempt: 1,
      deliveryCount: 0,
      redelivered: false,
    });
  });

  it('resolves a publish only once the broker holds the message, and rejects unroutable ones', async () => {
    const c = await setup();
    const sent = Array.from({ length: 20 }, deliveredEvent);
    await c.bus.publishMany(sent);
    // Confirmed before anyone consumed: the messages must survive a dropped connection.
    await c.harness.killConnection();
    const seen = new Set<string>();
    await c.bus.subscribe(c.workQueue, {
      'delivery.delivered': async (envelope) => {
        seen.add(envelope.id);
      },
    });
    await waitFor('every confirmed message', () => sent.every((e) => seen.has(e.id)));

    const unroutable = c.transport.publish({
      exchange: exchangeName(c.ns, 'events'),
      routingKey: 'nobody.listens',
      body: Buffer.from('{}'),
    });
    await expect(unroutable).rejects.toMatchObject({ code: 'BUS_PUBLISH_FAILED' });
    const noQueue = createEnvelope({
      type: 'campaign.completed',
      tenantId: randomUUID(),
      data: { campaignId: randomUUID() },
    });
    await expect(c.bus.publish(noQueue)).rejects.toBeInstanceOf(RelaisError);
  });

  it('rejects a publish to an undeclared exchange and keeps publishing afterwards', async () => {
    const c = await setup();
    const missing = c.transport.publish({
      exchange: `${c.ns}.missing`,
      routingKey: 'x',
      body: Buffer.from('{}'),
    });
    await expect(missing).rejects.toMatchObject({ code: 'BUS_PUBLISH_FAILED' });
    const seen: string[] = [];
    await c.bus.subscribe(c.workQueue, {
      'delivery.delivered': async (envelope) => {
        seen.push(envelope.id);
      },
    });
    const sent = deliveredEvent();
    await c.bus.publish(sent);
    await waitFor('the next publish to be consumed', () => seen.includes(sent.id));
  });

  it('redelivers a message whose consumer died mid-handler, and processes it once', async () => {
    const c = await setup();
    const calls: HandlerContext[] = [];
    const firstStarted = deferred();
    const release = deferred();
    c.onDispose.push(release.resolve);
    await c.bus.subscribe(
      c.workQueue,
      {
        'delivery.delivered': async (_envelope, context) => {
          calls.push(context);
          if (calls.length > 1) return;
          firstStarted.resolve();
          await release.promise;
        },
      },
      { prefetch: 1 },
    );
    await c.bus.publish(deliveredEvent());
    await firstStarted.promise;
    await c.harness.killConnection();
    await waitFor('the redelivery', () => calls.length === 2);
    expect(calls[1]?.redelivered).toBe(true);
    expect(calls[1]?.deliveryCount).toBeGreaterThanOrEqual(1);
    expect(calls[1]?.attempt).toBe(1);
    // The orphaned first run now finishes; its ack belongs to a dead connection.
    release.resolve();
    await sleep(300);
    expect(calls).toHaveLength(2);
  });

  it('waits for in-flight handlers when a subscription is cancelled', async () => {
    const c = await setup();
    const started = deferred();
    const release = deferred();
    c.onDispose.push(release.resolve);
    let finished = 0;
    const subscription: Subscription = await c.bus.subscribe(c.workQueue, {
      'delivery.delivered': async () => {
        started.resolve();
        await release.promise;
        finished += 1;
      },
    });
    await c.bus.publish(deliveredEvent());
    await started.promise;
    let cancelled = false;
    const cancelling = subscription.cancel().then(() => {
      cancelled = true;
    });
    await sleep(100);
    expect(cancelled).toBe(false);
    release.resolve();
    await cancelling;
    expect(finished).toBe(1);
    await c.bus.publish(deliveredEvent());
    await sleep(200);
    expect(finished).toBe(1);
  });

  it('keeps publishing and consuming across a killed connection, losing no confirmed message', async () => {
    const c = await setup();
    const seen = new Set<string>();
    await c.bus.subscribe(
      c.workQueue,
      {
        'delivery.delivered': async (envelope) => {
          await sleep(1);
          seen.add(envelope.id);
        },
      },
      { prefetch: 8 },
    );
    const confirmed: string[] = [];
    const publishSome = async (count: number) => {
      for (let i = 0; i < count; i += 1) {
        const envelope = deliveredEvent();
        // A publish caught by the kill may fail (retryably); the caller's answer is to retry.
        for (let tries = 0; ; tries += 1) {
          try {
            await c.bus.publish(envelope);
            confirmed.push(envelope.id);
            break;
          } catch (error) {
            if (tries >= 50 || !(error instanceof RelaisError) || !error.retryable) throw error;
            await sleep(100);
          }
        }
      }
    };
    await publishSome(40);
    await c.harness.killConnection();
    await publishSome(40);
    await waitFor('every confirmed message', () => confirmed.every((id) => seen.has(id)), 20_000);
    expect(confirmed).toHaveLength(80);
    await c.bus.ping();
  });
}
