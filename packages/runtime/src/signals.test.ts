import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../test/fixtures/shutdown-child.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

interface ChildRun {
  /** Resolves once a stdout line contains `text`. */
  waitFor(text: string): Promise<void>;
  signal(name: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; lines: string[]; elapsedMs: number }>;
}

// `node --import tsx` rather than the tsx CLI: one process, so the signal reaches the
// runtime directly instead of through tsx's relay.
function runFixture(env: Record<string, string>): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: packageDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  let buffered = '';
  let signalledAt = Date.now();
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => line.includes(w.text))) waiter.resolve();
    }
  });
  // Bounded: a fixture that never exits fails the test instead of hanging the suite.
  const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  const exited = new Promise<{ code: number | null; lines: string[]; elapsedMs: number }>(
    (resolve) => {
      child.on('exit', (code) => {
        clearTimeout(killer);
        resolve({ code, lines, elapsedMs: Date.now() - signalledAt });
      });
    },
  );
  return {
    waitFor: (text) =>
      lines.some((line) => line.includes(text))
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ text, resolve })),
    signal: (name) => {
      signalledAt = Date.now();
      child.kill(name);
    },
    exited,
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
