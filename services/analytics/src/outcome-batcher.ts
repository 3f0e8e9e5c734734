import type { AnalyticsStore, OutcomeEvent, OutcomeRecorder, RecordResult } from './ports';
import type { KpiEvent, KpiStore } from './kpi/ports';
import { createMicroBatcher, type MicroBatcher } from '@relais/store';

/** The micro-batcher delivery handlers hand their events to. */
export interface OutcomeBatcher extends OutcomeRecorder {
  /** Flushes what is waiting now (no timer left behind) and waits for the running flush. */
  close(): Promise<void>;
}

/**
 * The micro-batcher of delivery events: each batch is one `recordOutcomes` transaction
 * (see `createMicroBatcher` for the grouping, ordering and failure semantics).
 */
export function createOutcomeBatcher(options: {
  store: AnalyticsStore;
  /** The `inbox` consumer the envelope ids are claimed for. */
  consumer: string;
  batchSize: number;
}): OutcomeBatcher {
  const { store, consumer, batchSize } = options;
  return createMicroBatcher<OutcomeEvent, RecordResult>({
    flush: (events) => store.recordOutcomes(consumer, events),
    batchSize,
  });
}

/** The micro-batcher of the events the KPIs claim themselves (engagement, complaints). */
export function createKpiBatcher(options: {
  store: KpiStore;
  /** The `inbox` consumer the envelope ids are claimed for (not the outcomes' one). */
  consumer: string;
  batchSize: number;
}): MicroBatcher<KpiEvent, boolean> {
  const { store, consumer, batchSize } = options;
  return createMicroBatcher<KpiEvent, boolean>({
    flush: (events) => store.recordEvents(consumer, events),
    batchSize,
  });
}
