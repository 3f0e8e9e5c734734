import type { Logger } from '@relais/telemetry';
import { holdingPause, indexPauses, type PauseIndex } from '../domain/paused-slices';
import type { RelayLogEvent } from '../log-events';
import type { PauseStore, PausedSlices } from '../ports';

/** How the relay keeps its view of the paused slices. */
export interface PausedSlicesOptions {
  store: PauseStore;
  /** How often the pauses in force are read again. */
  refreshMs: number;
  logger: Logger;
}

/**
 * The paused slices this relay holds, read from the store at start and every `refreshMs`.
 * Polling, not the bus: every replica must see every pause and resume, and the relay's bus
 * queues are shared work queues (one replica would take a `campaign.paused`). A read that
 * fails keeps the last view: a pause is never dropped because the store blinked.
 */
export async function startPausedSlices(options: PausedSlicesOptions): Promise<PausedSlices> {
  let index: PauseIndex = new Map();
  let failing = false;
  const refresh = async (): Promise<void> => {
    try {
      index = indexPauses(await options.store.load());
      failing = false;
    } catch (error) {
      if (!failing) {
        options.logger.warn(
          { err: error, 'event.action': 'relay.pauses_load_failed' satisfies RelayLogEvent },
          'paused slices not read; the last known ones stay held',
        );
      }
      failing = true;
    }
  };
  await refresh();
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= refresh().finally(() => {
      running = undefined;
    });
  }, options.refreshMs);
  timer.unref();
  return {
    holding: (message) => holdingPause(index, message),
    refresh,
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
