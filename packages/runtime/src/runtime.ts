import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RelaisError } from '@relais/domain';
import type { Logger, Registry } from '@relais/telemetry';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { flushLogger, logEvent } from './events';
import { mountProbes, type ReadinessCheck } from './probes';
import { ShutdownPlan, type ShutdownHook, type ShutdownPhase } from './shutdown';

/** What a service hands the runtime; everything comes from its validated config and `main`. */
export interface ServiceRuntimeOptions {
  /** `service.name`, for log records. */
  service: string;
  logger: Logger;
  /** Served as-is on `/metrics`. */
  metrics: Registry;
  host: string;
  /** 0 lets the OS choose; `start()` returns the port actually bound. */
  port: number;
  /** Bound on the whole graceful shutdown; past it the process exits 1. */
  shutdownTimeoutMs: number;
  /** Named dependency pings for `/readyz` (e.g. `bus`, `store`). */
  readiness?: Record<string, ReadinessCheck>;
  /** Per-check bound on `/readyz`; 2 s by default, under Kubernetes' 1 s-per-probe default × retries. */
  readinessTimeoutMs?: number;
  /** Signals that start the graceful shutdown; a second one forces the exit. */
  signals?: readonly NodeJS.Signals[];
  /** How the process ends after a signal; tests replace it to observe the code. */
  exit?: (code: number) => void;
}

/** The HTTP surface, lifecycle and shutdown ordering of one service process. */
export interface ServiceRuntime {
  /** The express app; mount service routes before `start()`. */
  readonly app: Express;
  /** Listens, installs signal handlers and resolves with the bound port; idempotent. */
  start(): Promise<{ port: number }>;
  /** Registers a shutdown hook; `phase` defaults to `connections`, where most hooks close a client. */
  onShutdown(name: string, fn: ShutdownHook, phase?: ShutdownPhase): void;
  /** Runs the graceful shutdown without exiting; rejects with the stuck hooks named if the deadline passes. */
  stop(reason: string): Promise<void>;
  /** Keeps the shutdown's drain phase waiting until `promise` settles; returns it unchanged. */
  trackInFlight<T>(promise: Promise<T>): Promise<T>;
  /** True from the first moment of shutdown. */
  readonly stopping: boolean;
}

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Builds the runtime: probes mounted, shutdown plan ready; nothing listens until `start()`. */
export function createServiceRuntime(options: ServiceRuntimeOptions): ServiceRuntime {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? DEFAULT_SIGNALS;
  const plan = new ShutdownPlan(logger);
  const app = express();
  app.disable('x-powered-by');

  let stopping = false;
  let server: Server | undefined;
  let starting: Promise<{ port: number }> | undefined;
  let stopped: Promise<void> | undefined;
  const signalHandlers = new Map<NodeJS.Signals, () => void>();

  mountProbes(app, {
    logger,
    metrics: options.metrics,
    readiness: options.readiness ?? {},
    readinessTimeoutMs: options.readinessTimeoutMs ?? 2_000,
    isStopping: () => stopping,
  });

  // Everything after the probes is service work: refused once stopping, tracked until answered.
  app.use((_req: Request, res: Response, next: NextFunction) => {
    if (stopping) {
      res.set('Connection', 'close').set('Retry-After', '5');
      res.status(503).json({
        error: { code: 'SHUTTING_DOWN', message: 'The service is stopping; try again later.' },
      });
      return;
    }
    void plan.track(new Promise((resolve) => res.once('close', resolve)));
    next();
  });

  // The listener stays open through the drain so probes see 503 rather than a refused
  // connection; intake is already stopped by the gate above.
  plan.add('http server', () => closeServer(server), 'connections');
  plan.add('logger', () => flushLogger(logger), 'telemetry');

  // A stray rejection (a library's background promise) must not take a service and its
  // in-flight messages down: Node 20 would exit at once. An uncaught exception may have
  // left state half-updated, so it ends the process, but through the graceful shutdown so
  // acked work is not cut off and unacked work goes back to the broker.
  const onRejection = (reason: unknown): void => {
    logEvent(
      logger,
      'error',
      'runtime.process.unhandled_rejection',
      'unhandled promise rejection',
      {
        err: reason,
      },
    );
  };
  const onException = (error: Error): void => {
    logEvent(logger, 'fatal', 'runtime.process.uncaught_exception', 'uncaught exception', {
      err: error,
    });
    if (stopped) return;
    void stop('uncaughtException').then(
      () => flushLogger(logger).then(() => exit(1)),
      () => flushLogger(logger).then(() => exit(1)),
    );
  };
  const installCrashHandlers = (): void => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  };

  const removeSignalHandlers = (): void => {
    for (const [signal, handler] of signalHandlers) process.off(signal, handler);
    signalHandlers.clear();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };

  const stop = (reason: string): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      logEvent(logger, 'info', 'runtime.shutdown.started', 'shutdown started', {
        relais: {
          shutdown: {
            reason,
            timeout_ms: options.shutdownTimeoutMs,
            in_flight: plan.inFlightCount,
          },
        },
      });
      const outcome = await plan.run(options.shutdownTimeoutMs);
      removeSignalHandlers();
      if (!outcome.ok) {
        logEvent(logger, 'error', 'runtime.shutdown.timed_out', 'shutdown deadline exceeded', {
          relais: {
            shutdown: {
              phase: outcome.phase,
              stuck_hooks: outcome.stuckHooks,
              timeout_ms: options.shutdownTimeoutMs,
            },
          },
        });
        throw new RelaisError(
          'INTERNAL',
          `shutdown exceeded ${options.shutdownTimeoutMs} ms; stuck: ${outcome.stuckHooks.join(', ')}`,
          {
            details: { phase: outcome.phase, stuckHooks: outcome.stuckHooks.join(', ') },
          },
        );
      }
      logEvent(logger, 'info', 'runtime.shutdown.completed', 'shutdown completed', {
        relais: { shutdown: { failed_hooks: outcome.failedHooks } },
      });
    })();
    return stopped;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopped) {
      logEvent(logger, 'warn', 'runtime.shutdown.forced', 'second signal, exiting now', {
        relais: { shutdown: { signal } },
      });
      void flushLogger(logger, 200).then(() => exit(1));
      return;
    }
    void stop(signal).then(
      () => flushLogger(logger).then(() => exit(0)),
      () => flushLogger(logger).then(() => exit(1)),
    );
  };

  const start = (): Promise<{ port: number }> => {
    starting ??= (async () => {
      if (stopping)
        throw new RelaisError('SHUTTING_DOWN', 'cannot start a runtime that is stopping');
      app.use(fallbackErrorHandler(logger));
      server = createServer(app);
      const port = await listen(server, options.port, options.host);
      for (const signal of signals) {
        const handler = (): void => onSignal(signal);
        signalHandlers.set(signal, handler);
        process.on(signal, handler);
      }
      installCrashHandlers();
      logEvent(logger, 'info', 'runtime.started', 'service started', {
        server: { address: options.host, port },
        relais: { runtime: { shutdown_timeout_ms: options.shutdownTimeoutMs } },
      });
      return { port };
    })();
    return starting;
  };

  return {
    app,
    start,
    stop,
    onShutdown: (name, fn, phase = 'connections') => plan.add(name, fn, phase),
    trackInFlight: (promise) => plan.track(promise),
    get stopping() {
      return stopping;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Work is drained by now; what is left are idle keep-alive sockets and probes.
    server.closeAllConnections();
  });
}

// Last in the chain, so a service's own error handler (mounted before start) answers first.
function fallbackErrorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(error);
      return;
    }
    logEvent(logger, 'error', 'runtime.http.request_failed', 'request failed', {
      err: error,
      http: { request: { method: req.method } },
      url: { path: req.path },
    });
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Internal error.' } });
  };
}
