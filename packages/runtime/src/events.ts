import type { Logger } from '@relais/telemetry';

/**
 * Every log event the runtime writes, keyed by its `event.action`. Dashboards and alerts
 * match on these codes, so they only ever gain entries; the message text may change.
 */
export const RUNTIME_EVENTS = {
  'runtime.started': 'The HTTP server listens and signal handlers are installed.',
  'runtime.startup.failed':
    'main() or start() threw before the service was up; the process exits 1.',
  'runtime.readiness.failed':
    'A readiness check started failing (logged on the transition, not per probe).',
  'runtime.readiness.recovered': 'Every readiness check passes again.',
  'runtime.http.request_failed':
    'A route threw and no service error handler answered; replied 500.',
  'runtime.shutdown.started': 'A signal or stop() began the graceful shutdown.',
  'runtime.shutdown.intake_stopped':
    'Phase 1 done: consumers stopped, new HTTP work refused with 503.',
  'runtime.shutdown.work_drained': 'Phase 2 done: in-flight work and drain hooks finished.',
  'runtime.shutdown.connections_closed': 'Phase 3 done: bus, store and HTTP server closed.',
  'runtime.shutdown.telemetry_flushed': 'Phase 4 done: traces and logs flushed.',
  'runtime.shutdown.hook_failed': 'A shutdown hook threw; the shutdown continues with the others.',
  'runtime.shutdown.timed_out': 'The shutdown deadline passed; the stuck hooks are named; exit 1.',
  'runtime.shutdown.forced': 'A second signal arrived during shutdown; exit 1 at once.',
  'runtime.shutdown.completed': 'Every phase finished within the deadline; exit 0.',
  'runtime.process.unhandled_rejection':
    'A promise rejected with no handler; logged once, the process keeps serving.',
  'runtime.process.uncaught_exception':
    'An exception escaped to the event loop; state may be corrupt, so a graceful shutdown starts and the process exits 1.',
} as const;

/** One of the runtime's stable log event codes. */
export type RuntimeEvent = keyof typeof RUNTIME_EVENTS;

type Level = 'info' | 'warn' | 'error' | 'fatal';

/** Writes one runtime event: constant message, variables in fields, the code in `event.action`. */
export function logEvent(
  logger: Logger,
  level: Level,
  action: RuntimeEvent,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  logger[level]({ ...fields, event: { action } }, message);
}

/** Waits for buffered log records to reach their destination, bounded so a broken pipe cannot hold the exit. */
export function flushLogger(logger: Logger, timeoutMs = 1_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    try {
      logger.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
