interface Waiting<E, R> {
  event: E;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/** A micro-batcher of events of type E, each resolving with its own result R. */
export interface MicroBatcher<E, R> {
  record(event: E): Promise<R>;
  /** Flushes what is waiting now (no timer left behind) and waits for the running flush. */
  close(): Promise<void>;
}

/**
 * Groups the events of concurrent handlers into one `flush` (one transaction) each: a flush
 * starts on the next `setImmediate` after the first event, so everything delivered in the
 * same tick joins it, and the events that arrive while it runs form the next batch (at most
 * `batchSize` each). One flush runs at a time, which keeps a message's events in arrival
 * order across batches. When a flush fails, every handler of its batch rejects with the
 * error: the bus retries them, and since nothing committed, their envelopes are claimed
 * again. `flush` returns one result per event, in order.
 */
export function createMicroBatcher<E, R>(options: {
  flush: (events: readonly E[]) => Promise<readonly R[]>;
  batchSize: number;
}): MicroBatcher<E, R> {
  const { flush, batchSize } = options;
  const waiting: Waiting<E, R>[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let busy = false;
  let running: Promise<void> = Promise.resolve();

  const drain = async (): Promise<void> => {
    while (waiting.length > 0) {
      const batch = waiting.splice(0, batchSize);
      try {
        const results = await flush(batch.map((entry) => entry.event));
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
      return new Promise<R>((resolve, reject) => {
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
