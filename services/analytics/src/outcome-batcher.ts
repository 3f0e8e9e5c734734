import type { AnalyticsStore, OutcomeEvent, OutcomeRecorder, RecordResult } from './ports';

/** The micro-batcher delivery handlers hand their events to. */
export interface OutcomeBatcher extends OutcomeRecorder {
  /** Flushes what is waiting now (no timer left behind) and waits for the running flush. */
  close(): Promise<void>;
}

interface Waiting {
  event: OutcomeEvent;
  resolve(result: RecordResult): void;
  reject(error: unknown): void;
}

/**
 * Groups the delivery events of concurrent handlers into one transaction each
 * (`recordOutcomes`): a flush starts on the next `setImmediate` after the first event, so
 * everything delivered in the same tick joins it, and the events that arrive while it runs
 * form the next batch (at most `batchSize` each). One flush runs at a time, which keeps a
 * message's events in arrival order across batches. When a transaction fails, every
 * handler of its batch rejects with the error: the bus retries them, and since nothing
 * committed, their envelopes are claimed again.
 */
export function createOutcomeBatcher(options: {
  store: AnalyticsStore;
  /** The `inbox` consumer the envelope ids are claimed for. */
  consumer: string;
  batchSize: number;
}): OutcomeBatcher {
  const { store, consumer, batchSize } = options;
  const waiting: Waiting[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let busy = false;
  let running: Promise<void> = Promise.resolve();

  const drain = async (): Promise<void> => {
    while (waiting.length > 0) {
      const batch = waiting.splice(0, batchSize);
      try {
        const results = await store.recordOutcomes(
          consumer,
          batch.map((entry) => entry.event),
        );
        batch.forEach((entry, index) => entry.resolve(results[index]!));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    // Cleared in the same synchronous step as the emptiness check: an event recorded by a
    // handler resumed above sees `busy` false and schedules the next flush itself.
    busy = false;
  };

  const start = (): void => {
    scheduled = undefined;
    busy = true;
    running = drain();
  };

  return {
    record(event) {
      return new Promise<RecordResult>((resolve, reject) => {
        waiting.push({ event, resolve, reject });
        if (!busy && scheduled === undefined) scheduled = setImmediate(start);
      });
    },
    async close() {
      if (scheduled !== undefined) {
        clearImmediate(scheduled);
        start();
      }
      await running;
    },
  };
}
