import { redactUrlPasswords } from '@relais/config';
import type { Logger, Registry } from '@relais/telemetry';
import type { Express, Response } from 'express';
import { logEvent } from './events';

/** A readiness check resolves when its dependency answers and rejects with the reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

/** What `/readyz` reports: "ok" or the failure reason, per check. */
export type ReadinessReport = { ready: boolean; checks: Record<string, string> };

export interface ProbeOptions {
  logger: Logger;
  metrics: Registry;
  readiness: Record<string, ReadinessCheck>;
  readinessTimeoutMs: number;
  isStopping: () => boolean;
}

/**
 * Mounts `/healthz`, `/readyz` and `/metrics`. They answer through the whole shutdown,
 * with 503 once it starts, so Kubernetes stops routing here instead of hitting a refused
 * connection.
 */
export function mountProbes(app: Express, options: ProbeOptions): void {
  let lastReady = true;

  app.get('/healthz', (_req, res) => {
    noStore(res);
    if (options.isStopping()) res.status(503).json({ status: 'stopping' });
    else res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    noStore(res);
    if (options.isStopping()) {
      res.status(503).json({ status: 'stopping', checks: {} });
      return;
    }
    const report = await runReadiness(options.readiness, options.readinessTimeoutMs);
    // Probes run every few seconds: log the transitions, not every failed probe.
    if (report.ready !== lastReady) {
      lastReady = report.ready;
      if (report.ready)
        logEvent(options.logger, 'info', 'runtime.readiness.recovered', 'service is ready again');
      else
        logEvent(options.logger, 'warn', 'runtime.readiness.failed', 'readiness check failed', {
          relais: { readiness: failing(report) },
        });
    }
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? 'ready' : 'not_ready', checks: report.checks });
  });

  app.get('/metrics', async (_req, res) => {
    const text = await options.metrics.metrics();
    res.set('Content-Type', options.metrics.contentType).send(text);
  });
}

/** Runs every check concurrently, each bounded by `timeoutMs`; failure reasons have URL passwords masked. */
export async function runReadiness(
  checks: Record<string, ReadinessCheck>,
  timeoutMs: number,
): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(
      async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const,
    ),
  );
  const result = Object.fromEntries(entries);
  return { ready: entries.every(([, outcome]) => outcome === 'ok'), checks: result };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timed out after ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(check)
        .then(() => 'ok'),
      timeout,
    ]);
  } catch (error) {
    return redactUrlPasswords(error instanceof Error ? error.message || error.name : String(error));
  } finally {
    clearTimeout(timer);
  }
}

function failing(report: ReadinessReport): Record<string, string> {
  return Object.fromEntries(
    Object.entries(report.checks).filter(([, outcome]) => outcome !== 'ok'),
  );
}

function noStore(res: Response): void {
  res.set('Cache-Control', 'no-store');
}
