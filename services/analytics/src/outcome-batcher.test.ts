import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EnvelopeId, MessageId, TenantId } from '@relais/domain';
import { outcomeOf } from './domain/outcomes';
import { createOutcomeBatcher } from './outcome-batcher';
import type { AnalyticsStore, OutcomeEvent, RecordResult } from './ports';

function event(): OutcomeEvent {
  const messageId = randomUUID() as MessageId;
  return {
    envelopeId: randomUUID() as EnvelopeId,
    tenantId: randomUUID() as TenantId,
    shard: 0,
    outcome: outcomeOf({
      type: 'delivery.delivered',
      data: {
        messageId,
        recipientDomain: 'example.test',
        pool: 'default',
        attempt: 1,
      } as never,
    }),
  };
}

/** A store whose flushes the test releases by hand, recording what each one held. */
function gatedStore() {
  const flushes: { events: readonly OutcomeEvent[]; release(error?: Error): void }[] = [];
  const store: AnalyticsStore = {
    recordOutcomes: (_consumer, events) =>
      new Promise<RecordResult[]>((resolve, reject) => {
        flushes.push({
          events,
          release: (error) =>
            error === undefined ? resolve(events.map(() => ({ kind: 'unknown' }))) : reject(error),
        });
      }),
    completeFinishedCampaigns: () => Promise.resolve([]),
    campaignStats: () => Promise.resolve(undefined),
  };
  return { store, flushes };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('outcome batcher', () => {
  it('batches one tick together, up to batchSize, and what arrives during a flush after it', async () => {
    const { store, flushes } = gatedStore();
    const batcher = createOutcomeBatcher({ store, consumer: 'c', batchSize: 2 });
    const first = [event(), event(), event()];
    const pending = first.map((e) => batcher.record(e));
    expect(flushes).toHaveLength(0);
    await turn();
    expect(flushes.map((f) => f.events)).toEqual([first.slice(0, 2)]);

    const late = event();
    const latePending = batcher.record(late);
    await turn();
    // One flush at a time: the late event waits behind the running one.
    expect(flushes).toHaveLength(1);
    flushes[0]!.release();
    await turn();
    expect(flushes.map((f) => f.events.length)).toEqual([2, 2]);
    expect(flushes[1]!.events).toEqual([first[2], late]);
    flushes[1]!.release();
    expect(await Promise.all([...pending, latePending])).toHaveLength(4);
  });

  it('rejects every event of a failed flush with its error and goes on with the next', async () => {
    const { store, flushes } = gatedStore();
    const batcher = createOutcomeBatcher({ store, consumer: 'c', batchSize: 10 });
    const failing = [batcher.record(event()), batcher.record(event())];
    await turn();
    const next = batcher.record(event());
    const boom = new Error('connection reset');
    flushes[0]!.release(boom);
    const settled = await Promise.allSettled(failing);
    expect(settled).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
    ]);
    await turn();
    flushes[1]!.release();
    expect(await next).toEqual({ kind: 'unknown' });
  });

  it('flushes what is waiting on close without waiting for the scheduled turn', async () => {
    const { store, flushes } = gatedStore();
    const batcher = createOutcomeBatcher({ store, consumer: 'c', batchSize: 10 });
    const pending = batcher.record(event());
    const closed = batcher.close();
    expect(flushes).toHaveLength(1);
    flushes[0]!.release();
    await closed;
    expect(await pending).toEqual({ kind: 'unknown' });
  });
});
