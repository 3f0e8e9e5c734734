import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { RelaisError, createEnvelope, decodeEnvelope } from '@relais/domain';
import { BUS_HEADERS, exchangeName } from '../src/index';
import {
  DELIVERY_LIMIT,
  MAX_ATTEMPTS,
  RETRY_TIERS_MS,
  deferred,
  deliveredEvent,
  sleep,
  waitFor,
  type CaseSetup,
} from './contract-helpers';

/** Contract cases of failing handlers and bad input: delayed retry, dead-letter, dedupe. */
export function defineFailureCases(setup: CaseSetup): void {
  it('retries a retryable failure after the first tier delay, then succeeds', async () => {
    const c = await setup();
    const calls: { at: number; attempt: number }[] = [];
    await c.bus.subscribe(c.workQueue, {
      'delivery.delivered': async (_envelope, context) => {
        calls.push({ at: Date.now(), attempt: context.attempt });
        if (calls.length === 1)
          throw new RelaisError('STORE_UNAVAILABLE', 'database is restarting');
      },
    });
    await c.bus.publish(deliveredEvent());
    await waitFor('the first attempt', () => calls.length === 1);
    await sleep(RETRY_TIERS_MS[0]! / 2);
    expect(calls).toHaveLength(1);
    await waitFor('the retry', () => calls.length === 2);
    const [first, second] = calls;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(RETRY_TIERS_MS[0]! - 10);
    expect(calls.map((call) => call.attempt)).toEqual([1, 2]);
    await sleep(RETRY_TIERS_MS[1]! + 100);
    expect(calls).toHaveLength(2);
  });

  it('dead-letters a message once its attempts are exhausted, saying why', async () => {
    const c = await setup();
    await c.readDeadLetters();
    const attempts: number[] = [];
    await c.bus.subscribe(c.workQueue, {
      'delivery.delivered': async (_envelope, context) => {
        attempts.push(context.attempt);
        throw new Error('smtp pool exhausted');
      },
    });
    const sent = deliveredEvent();
    await c.bus.publish(sent);
    await waitFor('the dead letter', () => c.deadLetters.length === 1);
    expect(attempts).toEqual([1, 2, 3]);
    const letter = c.deadLetters[0]!;
    expect(letter.messageId).toBe(sent.id);
    expect(decodeEnvelope(letter.body)).toEqual(sent);
    expect(letter.headers).toMatchObject({
      [BUS_HEADERS.failureCode]: 'HANDLER_FAILED',
      [BUS_HEADERS.originalQueue]: c.workQueue,
      [BUS_HEADERS.originalExchange]: exchangeName(c.ns, 'events'),
      [BUS_HEADERS.originalRoutingKey]: 'delivery.delivered',
      [BUS_HEADERS.attempt]: MAX_ATTEMPTS,
    });
    expect(String(letter.headers[BUS_HEADERS.failureReason])).toContain('smtp pool exhausted');
    expect(Number.isNaN(Date.parse(String(letter.headers[BUS_HEADERS.failedAt])))).toBe(false);
  });

  it('dead-letters a non-retryable failure at once', async () => {
    const c = await setup();
    await c.readDeadLetters();
    let calls = 0;
    await c.bus.subscribe(c.workQueue, {
      'delivery.delivered': async () => {
        calls += 1;
        throw new RelaisError('VALIDATION_FAILED', 'recipient domain is not allowed');
      },
    });
    await c.bus.publish(deliveredEvent());
    await waitFor('the dead letter', () => c.deadLetters.length === 1);
    expect(calls).toBe(1);
    expect(c.deadLetters[0]?.headers).toMatchObject({
      [BUS_HEADERS.failureCode]: 'VALIDATION_FAILED',
      [BUS_HEADERS.failureReason]: 'recipient domain is not allowed',
      [BUS_HEADERS.attempt]: 1,
    });
  });

  it('dead-letters poison messages with a readable reason and keeps consuming', async () => {
    const c = await setup();
    await c.readDeadLetters();
    const handled: string[] = [];
    await c.bus.subscribe(c.workQueue, {
      'delivery.delivered': async (envelope) => {
        handled.push(envelope.id);
      },
    });
    const events = exchangeName(c.ns, 'events');
    await c.transport.publish({
      exchange: events,
      routingKey: 'delivery.delivered',
      body: Buffer.from('{"id": not json'),
      messageId: 'poison-bytes',
    });
    const invalid = {
      ...deliveredEvent(),
      data: { messageId: randomUUID(), pool: 'shared', attempt: 1 },
    };
    await c.transport.publish({
      exchange: events,
      routingKey: 'delivery.delivered',
      body: Buffer.from(JSON.stringify(invalid)),
      messageId: invalid.id,
    });
    const unhandled = createEnvelope({
      type: 'delivery.expired',
      tenantId: randomUUID(),
      data: {
        messageId: randomUUID(),
        recipientDomain: 'example.org',
        pool: 'shared',
        attempt: 3,
      },
    });
    await c.bus.publish(unhandled);
    const good = deliveredEvent();
    await c.bus.publish(good);

    await waitFor('three dead letters', () => c.deadLetters.length === 3);
    await waitFor('the good message', () => handled.includes(good.id));
    expect(handled).toEqual([good.id]);
    const byId = new Map(c.deadLetters.map((d) => [d.messageId, d.headers]));
    expect(byId.get('poison-bytes')).toMatchObject({
      [BUS_HEADERS.failureCode]: 'MESSAGE_INVALID',
    });
    expect(String(byId.get('poison-bytes')?.[BUS_HEADERS.failureReason])).toMatch(/not valid JSON/);
    expect(byId.get(invalid.id)).toMatchObject({ [BUS_HEADERS.failureCode]: 'MESSAGE_INVALID' });
    expect(String(byId.get(invalid.id)?.[BUS_HEADERS.failureReason])).toMatch(/recipientDomain/);
    expect(byId.get(unhandled.id)).toMatchObject({
      [BUS_HEADERS.failureCode]: 'MESSAGE_UNKNOWN_TYPE',
    });
  });

  it('runs the handler once for an envelope id delivered twice', async () => {
    const c = await setup();
    const handled: string[] = [];
    await c.bus.subscribe(
      c.workQueue,
      {
        'delivery.delivered': async (envelope) => {
          handled.push(envelope.id);
        },
      },
      { prefetch: 1 },
    );
    const twice = deliveredEvent();
    const after = deliveredEvent();
    await c.bus.publish(twice);
    await c.bus.publish(twice);
    await c.bus.publish(after);
    await waitFor('the later message', () => handled.includes(after.id));
    expect(handled).toEqual([twice.id, after.id]);
    const consumed = await c.registry.getSingleMetricAsString('relais_bus_consumed_total');
    expect(consumed).toMatch(/outcome="duplicate"[^\n]*\} 1/);
  });

  it('dead-letters a message that keeps killing its consumer, before the broker drops it', async () => {
    const c = await setup();
    await c.readDeadLetters();
    let calls = 0;
    const release = deferred();
    c.onDispose.push(release.resolve);
    await c.bus.subscribe(
      c.workQueue,
      {
        'delivery.delivered': async () => {
          calls += 1;
          await release.promise;
        },
      },
      { prefetch: 1 },
    );
    const sent = deliveredEvent();
    await c.bus.publish(sent);
    for (let kill = 1; kill <= DELIVERY_LIMIT; kill += 1) {
      await waitFor(`delivery ${kill}`, () => calls === kill);
      await c.harness.killConnection();
    }
    await waitFor('the dead letter', () => c.deadLetters.length === 1);
    expect(calls).toBe(DELIVERY_LIMIT);
    expect(c.deadLetters[0]?.messageId).toBe(sent.id);
    expect(c.deadLetters[0]?.headers[BUS_HEADERS.failureCode]).toBe('HANDLER_FAILED');
    expect(String(c.deadLetters[0]?.headers[BUS_HEADERS.failureReason])).toMatch(/crash loop/);
  });
}
