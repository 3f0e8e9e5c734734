import type { Logger } from '@relais/telemetry';
import { logEvent, type RuntimeEvent } from './events';

/**
 * Shutdown runs in this order so nothing is cut mid-flight: stop taking work, let the
 * work already taken finish, close the connections that work needed, then flush telemetry
 * (last, so the shutdown itself is recorded).
 */
export const SHUTDOWN_PHASES = ['intake', 'drain', 'connections', 'telemetry'] as const;

/** When a shutdown hook runs; see `SHUTDOWN_PHASES` for the order. */
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

/** A hook closes one thing; it may be sync or async. */
export type ShutdownHook = () => Promise<void> | void;

/** How a shutdown ended: within the deadline, or not with the hooks still running named. */
export type ShutdownOutcome =
  | { ok: true; failedHooks: string[] }
  | { ok: false; phase: ShutdownPhase; stuckHooks: string[]; failedHooks: string[] };

const PHASE_DONE: Record<ShutdownPhase, RuntimeEvent> = {
  intake: 'runtime.shutdown.intake_stopped',
  drain: 'runtime.shutdown.work_drained',
  connections: 'runtime.shutdown.connections_closed',
  telemetry: 'runtime.shutdown.telemetry_flushed',
};

/** The name under which tracked in-flight work shows up when it outlives the deadline. */
export const IN_FLIGHT_HOOK = 'in-flight work';

/** Ordered shutdown hooks plus the set of in-flight tasks the drain phase waits for. */
export class ShutdownPlan {
  private readonly hooks: { name: string; phase: ShutdownPhase; fn: ShutdownHook }[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly logger: Logger) {}

  /** Registers `fn` to run in `phase`; hooks of one phase run concurrently. */
  add(name: string, fn: ShutdownHook, phase: ShutdownPhase): void {
    this.hooks.push({ name, phase, fn });
  }

  /** Holds the drain phase open until `promise` settles; returns it unchanged. */
  track<T>(promise: Promise<T>): Promise<T> {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return promise;
  }

  /** Number of tracked tasks not yet settled. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Runs every phase in order, giving up after `timeoutMs` and naming what was still running. */
  async run(timeoutMs: number): Promise<ShutdownOutcome> {
    const running = new Set<string>();
    const failedHooks: string[] = [];
    let phase: ShutdownPhase = SHUTDOWN_PHASES[0];

    const runHook = async (name: string, fn: () => Promise<void> | void): Promise<void> => {
      running.add(name);
      try {
        await fn();
      } catch (error) {
        failedHooks.push(name);
        logEvent(this.logger, 'error', 'runtime.shutdown.hook_failed', 'shutdown hook failed', {
          err: error,
          relais: { shutdown: { phase, hook: name } },
        });
      } finally {
        running.delete(name);
      }
    };

    const phases = async (): Promise<void> => {
      for (const current of SHUTDOWN_PHASES) {
        phase = current;
        const startedAt = Date.now();
        const tasks = this.hooks
          .filter((hook) => hook.phase === current)
          .map((hook) => runHook(hook.name, hook.fn));
        if (current === 'drain') tasks.push(runHook(IN_FLIGHT_HOOK, () => this.drain()));
        await Promise.all(tasks);
        logEvent(this.logger, 'info', PHASE_DONE[current], 'shutdown phase completed', {
          relais: { shutdown: { phase: current, duration_ms: Date.now() - startedAt } },
        });
      }
    };

    let timer: NodeJS.Timeout | undefined;
    // The timer stays referenced on purpose: a hook awaiting a promise nothing will
    // settle holds no handle, and an unreferenced timer would let Node exit 0 silently.
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([phases().then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (result === 'done') return { ok: true, failedHooks };
    return { ok: false, phase, stuckHooks: [...running], failedHooks };
  }

  // Work tracked while draining (a message that was mid-handler) is waited for too.
  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
