import { configProblems, formatConfigError } from '@relais/config';
import { RelaisError } from '@relais/domain';
import { createLogger, type Logger } from '@relais/telemetry';
import { flushLogger, logEvent } from './events';
import type { ServiceRuntime } from './runtime';

/** How `runMain` reports a failed start; defaults are the real process. */
export interface RunMainOptions {
  /** Used for the startup failure record when `main` did not get far enough to build one. */
  service?: string;
  logger?: Logger;
  exit?: (code: number) => void;
  /** Where config problems are printed for a human: stderr. */
  writeError?: (text: string) => void;
}

/** Exit code of a process that refused to start because of its configuration. */
export const EXIT_CONFIG_INVALID = 2;

/**
 * Runs a service's `main` (which wires everything and returns its runtime) and starts the
 * runtime. A config error is printed readably and exits 2 before any connection is
 * opened; any other startup failure is logged once and exits 1.
 */
export async function runMain(
  main: () => Promise<ServiceRuntime>,
  options: RunMainOptions = {},
): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  try {
    const runtime = await main();
    await runtime.start();
  } catch (error) {
    if (isConfigError(error)) {
      (options.writeError ?? ((text) => process.stderr.write(text)))(
        `${formatConfigError(error)}\n`,
      );
      exit(EXIT_CONFIG_INVALID);
      return;
    }
    const logger = options.logger ?? createLogger({ service: options.service ?? 'relais' });
    logEvent(logger, 'fatal', 'runtime.startup.failed', 'service failed to start', { err: error });
    await flushLogger(logger);
    exit(1);
  }
}

function isConfigError(error: unknown): boolean {
  return (
    configProblems(error).length > 0 ||
    (error instanceof RelaisError && error.code === 'CONFIG_INVALID')
  );
}
