import { fileURLToPath } from 'node:url';
import { spawnTs } from '@relais/testing';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../test/fixtures/shutdown-child.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

interface FixtureRun {
  /** Resolves once a stdout line contains `text`. */
  waitFor(text: string): Promise<void>;
  signal(name: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; lines: string[]; elapsedMs: number }>;
}

// `node --import tsx` (what spawnTs runs) rather than the tsx CLI: one process, so the
// signal reaches the runtime directly instead of through tsx's relay.
function runFixture(env: Record<string, string>): FixtureRun {
  const run = spawnTs(fixture, { args: [], cwd: packageDir, env, killAfterMs: 25_000 });
  let signalledAt = Date.now();
  return {
    waitFor: (text) => run.waitForLine((line) => line.includes(text)).then(() => undefined),
    signal: (name) => {
      signalledAt = Date.now();
      run.signal(name);
    },
    exited: run.exited.then(({ code }) => ({
      code,
      lines: run.lines,
      elapsedMs: Date.now() - signalledAt,
    })),
  };
}

function actionsOf(lines: string[]): string[] {
  return lines.flatMap((line) => {
    if (line.startsWith('MARKER ')) return [line];
    const record = JSON.parse(line) as { event?: { action?: string } };
    return record.event?.action ? [record.event.action] : [];
  });
}

describe('signals', { timeout: 30_000 }, () => {
  it('finishes the in-flight task after SIGTERM and exits 0', async () => {
    const run = runFixture({ FIXTURE_MODE: 'in-flight' });
    await run.waitFor('MARKER task-started');
    run.signal('SIGTERM');
    const { code, lines } = await run.exited;
    expect(code).toBe(0);
    const actions = actionsOf(lines);
    expect(actions.indexOf('MARKER task-finished')).toBeGreaterThan(
      actions.indexOf('runtime.shutdown.started'),
    );
    expect(actions.indexOf('MARKER task-finished')).toBeLessThan(
      actions.indexOf('runtime.shutdown.work_drained'),
    );
    expect(actions.at(-1)).toBe('runtime.shutdown.completed');
  });

  it('exits 1 naming the stuck hook when a hook hangs past the deadline', async () => {
    const run = runFixture({ FIXTURE_MODE: 'hang', FIXTURE_SHUTDOWN_TIMEOUT_MS: '300' });
    await run.waitFor('MARKER ready');
    run.signal('SIGTERM');
    const { code, lines, elapsedMs } = await run.exited;
    expect(code).toBe(1);
    expect(elapsedMs).toBeGreaterThanOrEqual(300);
    const timedOut = lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { event?: { action?: string }; relais?: unknown })
      .find((record) => record.event?.action === 'runtime.shutdown.timed_out');
    expect(timedOut?.relais).toEqual({
      shutdown: { phase: 'connections', stuck_hooks: ['bus'], timeout_ms: 300 },
    });
  });

  it('exits 1 at once on a second signal', async () => {
    const run = runFixture({ FIXTURE_MODE: 'in-flight', FIXTURE_TASK_MS: '10000' });
    await run.waitFor('MARKER task-started');
    run.signal('SIGTERM');
    await run.waitFor('runtime.shutdown.started');
    run.signal('SIGINT');
    const { code, lines, elapsedMs } = await run.exited;
    expect(code).toBe(1);
    expect(elapsedMs).toBeLessThan(5_000);
    expect(actionsOf(lines)).toContain('runtime.shutdown.forced');
    expect(actionsOf(lines)).not.toContain('MARKER task-finished');
  });

  it('survives a stray rejection, and shuts down gracefully with exit 1 on an uncaught exception', async () => {
    const run = runFixture({ FIXTURE_MODE: 'crash' });
    const { code, lines } = await run.exited;
    expect(code).toBe(1);
    const actions = actionsOf(lines);
    expect(actions.indexOf('runtime.process.unhandled_rejection')).toBeLessThan(
      actions.indexOf('MARKER still-serving'),
    );
    expect(actions.indexOf('runtime.process.uncaught_exception')).toBeGreaterThan(
      actions.indexOf('MARKER still-serving'),
    );
    expect(actions.at(-1)).toBe('runtime.shutdown.completed');
  });
});
