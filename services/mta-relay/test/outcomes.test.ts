import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, startHarness, waitFor, type Harness } from './helpers';

describe('relay outcomes against the provider simulator', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      profiles: [
        {
          name: 'mbox',
          domains: ['mbox.test'],
          unknownUsers: ['ghost'],
          fullMailboxes: ['full'],
        },
        { name: 'grey', domains: ['grey.test'], greylist: true, greylistDelayMs: 100 },
      ],
      retryTiersMs: [300],
      maxAttempts: 3,
    });
  });
  afterAll(() => harness.close());

  it('publishes delivery.delivered with the 250 reply', async () => {
    const id = await harness.send('alice@mbox.test');
    await waitFor(() => harness.eventsOf(id).length === 1);
    const [event] = harness.eventsOf(id);
    expect(event?.type).toBe('delivery.delivered');
    expect(event?.data).toMatchObject({
      recipientDomain: 'mbox.test',
      pool: 'default',
      attempt: 1,
      reply: { code: 250 },
    });
    expect(harness.simulator.messages().some((m) => m.raw.includes('alice@mbox.test'))).toBe(true);
  });

  it('bounces an unknown user (550 5.1.1) as hard', async () => {
    const id = await harness.send('ghost@mbox.test');
    await waitFor(() => harness.eventsOf(id).length === 1);
    const [event] = harness.eventsOf(id);
    expect(event?.type).toBe('delivery.bounced');
    expect(event?.data).toMatchObject({
      hard: true,
      reason: 'userunknown',
      reply: { code: 550, enhanced: '5.1.1' },
    });
  });

  it('defers a full mailbox (452 4.2.2) on every attempt, then expires it', async () => {
    const id = await harness.send('full@mbox.test');
    await waitFor(() => harness.eventsOf(id).length === 3);
    const events = harness.eventsOf(id);
    expect(events.map((event) => event.type)).toEqual([
      'delivery.deferred',
      'delivery.deferred',
      'delivery.expired',
    ]);
    expect(events.map((event) => event.data.attempt)).toEqual([1, 2, 3]);
    const first = events[0];
    if (first?.type !== 'delivery.deferred') throw new Error('expected a deferral');
    expect(first.data.reply).toMatchObject({ code: 452, enhanced: '4.2.2' });
    expect(first.data.reason).toBe('mailbox_full');
    expect(Date.parse(first.data.retryAt) - Date.parse(first.occurredAt)).toBe(300);
    expect(harness.deadLettered).toEqual([]);
  });

  it('defers a greylisted recipient (451 4.7.1) and delivers it on the retry', async () => {
    const id = await harness.send('bob@grey.test');
    await waitFor(() => harness.eventsOf(id).length === 2);
    const events = harness.eventsOf(id);
    expect(events.map((event) => event.type)).toEqual(['delivery.deferred', 'delivery.delivered']);
    expect(events[0]?.data.reply).toMatchObject({ code: 451, enhanced: '4.7.1' });
    expect(events[1]?.data).toMatchObject({ attempt: 2, reply: { code: 250 } });
    expect(harness.simulator.stats().grey?.greylisted).toBe(1);
  });
});

describe('relay without a reachable server', () => {
  let harness: Harness;

  beforeAll(async () => {
    const port = await closedPort();
    harness = await startHarness({
      profiles: [{ name: 'unused', domains: ['unused.test'] }],
      routes: 'none',
      settings: { routes: [{ pattern: 'down.test', host: '127.0.0.1', port }] },
      retryTiersMs: [60_000],
    });
  });
  afterAll(() => harness.close());

  it('defers a refused connection, with a reply that has no code', async () => {
    const id = await harness.send('carol@down.test');
    await waitFor(() => harness.eventsOf(id).length === 1);
    const [event] = harness.eventsOf(id);
    expect(event?.type).toBe('delivery.deferred');
    expect(event?.data.reply?.code).toBeUndefined();
    expect(event?.data.reply?.text).toMatch(/ECONN/);
  });
});
