import { spawn } from 'node:child_process';

/** A child process whose stdout lines a test can wait on. */
export interface ChildRun {
  /** The node process itself (no wrapper), for sampling its CPU and memory. */
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with the first stdout line for which `match` holds (or rejects after `timeoutMs`). */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  signal(name: NodeJS.Signals): void;
  /** Settles when the process exits; it is SIGKILLed after `killAfterMs` so no test hangs. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export interface SpawnOptions {
  args: string[];
  /** Flags for node itself, before the entry (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  killAfterMs?: number;
}

/**
 * Runs a TypeScript entry point as `node --import tsx` (one process, so signals reach it
 * directly rather than through the tsx CLI's relay) and collects its output.
 */
export function spawnTs(entry: string, options: SpawnOptions): ChildRun {
  const nodeArgs = [...(options.nodeArgs ?? []), '--import', 'tsx', entry, ...options.args];
  const child = spawn(process.execPath, nodeArgs, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<{ match: (line: string) => boolean; resolve: (line: string) => void }>();
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete) {
      lines.push(line);
      for (const waiter of waiters) {
        if (waiter.match(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 60_000);
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
  }>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stderr });
    });
  });
  return {
    pid: child.pid ?? -1,
    lines,
    waitForLine: (match, timeoutMs = 30_000) => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve };
        waiters.add(waiter);
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `no matching output line within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
        void exited.then(() => {
          if (!waiters.has(waiter)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          reject(
            new Error(`process exited before a matching line; stderr: ${stderr.slice(-2000)}`),
          );
        });
        const original = waiter.resolve;
        waiter.resolve = (line) => {
          clearTimeout(timer);
          original(line);
        };
      });
    },
    signal: (name) => child.kill(name),
    exited,
  };
}

/** Parses a JSON log line, or undefined when the line is not a JSON object. */
export function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object'
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
