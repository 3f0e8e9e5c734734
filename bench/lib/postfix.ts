import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { connect, createServer, type AddressInfo, type NetConnectOpts } from 'node:net';
import { ensureDebianPackage } from './debian-package';
import { clockTicksPerSecond, readProcessSample } from './proc-stats';

export const SMTP_SINK = '/usr/sbin/smtp-sink';
export const SMTP_SOURCE = '/usr/sbin/smtp-source';

/**
 * Makes Postfix's `smtp-sink` and `smtp-source` available, installing the Debian `postfix`
 * package when they are missing. The package is pre-seeded as "No configuration" so the
 * install neither prompts nor leaves a configured MTA behind; if the init system started
 * one anyway it is stopped and disabled, since a real MTA on port 25 has no place on a
 * benchmark machine.
 */
export function ensurePostfixTools(): void {
  ensureDebianPackage({
    name: 'postfix',
    provides: [SMTP_SINK, SMTP_SOURCE],
    beforeInstall: () =>
      execFileSync('debconf-set-selections', {
        input:
          'postfix postfix/main_mailer_type select No configuration\n' +
          'postfix postfix/mailname string localhost\n',
        stdio: ['pipe', 'ignore', 'pipe'],
      }),
    service: 'postfix',
  });
  // The init script may not know a Postfix the package started by other means.
  const quiet = { stdio: 'ignore' } as const;
  if (spawnSync('postfix', ['status'], quiet).status === 0) spawnSync('postfix', ['stop'], quiet);
}

/** A running `smtp-sink`: accepts SMTP on 127.0.0.1 and throws every message away. */
export interface SmtpSink {
  host: string;
  port: number;
  pid: number;
  /** Messages completed so far (the final "." answered), from smtp-sink's own counter. */
  received(): number;
  /** SMTP sessions ended so far (including readiness probes). */
  sessions(): number;
  /** Resolves once `received() >= count`; rejects after `timeoutMs` or if the sink exits. */
  waitForReceived(count: number, timeoutMs: number): Promise<void>;
  /** Terminates the sink and waits for it to exit. */
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** listen(2) backlog; smtp-sink also caps concurrent sessions at 256 (`-m`). */
  backlog?: number;
}

/**
 * Starts `smtp-sink -c`, whose counters line ("sess=N quit=N mesg=N", ended by "\r" and
 * flushed at each update) is written to stdout as each session ends, each QUIT and each
 * message's final "." arrives. `mesg` is therefore an exact count of accepted messages,
 * read without touching the disk (its `-d`/`-D` dump modes cost orders of magnitude).
 */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  ensurePostfixTools();
  const host = options.host ?? '127.0.0.1';
  const port = options.port || (await freePort(host));
  const args = ['-c'];
  // smtp-sink refuses to run as root; it drops privileges after binding.
  if (process.getuid?.() === 0) args.push('-u', 'nobody');
  args.push(`${host}:${port}`, String(options.backlog ?? 256));
  const child = spawn(SMTP_SINK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let counters = { sessions: 0, messages: 0 };
  let pending = '';
  let stderr = '';
  let exit: string | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const updates = (pending + chunk).split('\r');
    pending = updates.pop() ?? '';
    const latest = updates.at(-1);
    const match = latest === undefined ? null : /sess=(\d+) quit=\d+ mesg=(\d+)/.exec(latest);
    if (match) {
      counters = { sessions: Number(match[1]), messages: Number(match[2]) };
      notify();
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = `smtp-sink exited (code ${code}, signal ${signal}): ${stderr.trim()}`;
      notify();
      resolve();
    });
  });
  child.on('error', (error) => {
    exit = `smtp-sink failed to start: ${error.message}`;
    notify();
  });
  await waitUntilListening(
    { host, port },
    { what: `smtp-sink on ${host}:${port}`, timeoutMs: 5000, intervalMs: 20, failure: () => exit },
  );
  const pid = child.pid!;
  return {
    host,
    port,
    pid,
    received: () => counters.messages,
    sessions: () => counters.sessions,
    waitForReceived: (count, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (counters.messages >= count) done();
          else if (exit !== undefined) done(new Error(exit));
        };
        const timer = setTimeout(
          () =>
            done(
              new Error(
                `smtp-sink received ${counters.messages} of ${count} messages in ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
        const done = (error?: Error): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        listeners.add(check);
        check();
      }),
    close: async () => {
      if (exit === undefined) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface SmtpSourceOptions {
  host?: string;
  port: number;
  /** Messages in total, spread over the sessions. */
  messages: number;
  /** Body length (`-l`); smtp-source adds a few short headers on top. */
  sizeBytes: number;
  /** Parallel SMTP sessions (`-s`). */
  sessions: number;
  recipientsPerMessage?: number;
  /**
   * true (default, `-d`): each session sends message after message on one connection;
   * false: one message per connection. smtp-source offers nothing in between.
   */
  reuseConnections?: boolean;
  /** Envelope sender and recipient (`-f`, `-t`); smtp-source's defaults otherwise. */
  from?: string;
  to?: string;
  /** When given, the run ends only once this sink has counted every message sent. */
  sink?: SmtpSink;
  timeoutMs?: number;
}

export interface Throughput {
  messages: number;
  seconds: number;
  perSecond: number;
}

/** Runs `smtp-source` to completion and times it (wall clock, spawn to last message). */
export async function runSmtpSource(options: SmtpSourceOptions): Promise<Throughput> {
  ensurePostfixTools();
  const timeoutMs = options.timeoutMs ?? 600_000;
  const args = [
    '-s',
    String(options.sessions),
    '-m',
    String(options.messages),
    '-l',
    String(options.sizeBytes),
    '-r',
    String(options.recipientsPerMessage ?? 1),
    // Retry connections the kernel resets when the listen queue overflows.
    '-C',
    '5',
  ];
  if (options.from !== undefined) args.push('-f', options.from);
  if (options.to !== undefined) args.push('-t', options.to);
  if (options.reuseConnections ?? true) args.push('-d');
  args.push(`${options.host ?? '127.0.0.1'}:${options.port}`);
  const target = (options.sink?.received() ?? 0) + options.messages;
  const startMs = performance.now();
  const child = spawn(SMTP_SOURCE, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
    },
  ).finally(() => clearTimeout(killer));
  if (code !== 0) {
    throw new Error(`smtp-source failed (code ${code}, signal ${signal}): ${stderr.trim()}`);
  }
  if (options.sink) await options.sink.waitForReceived(target, 10_000);
  const seconds = (performance.now() - startMs) / 1000;
  return { messages: options.messages, seconds, perSecond: options.messages / seconds };
}

export interface Ceiling extends Throughput {
  sizeBytes: number;
  sessions: number;
  /** CPU the sink used: near one core means the sink, not the client, set the ceiling. */
  sinkCpuSeconds: number;
}

/**
 * The most this machine moves through SMTP with Postfix's own C tools on both ends: the
 * upper bound any end-to-end figure measured against smtp-sink should be read against.
 */
export async function measureCeiling(options: {
  messages: number;
  sizeBytes: number;
  sessions: number;
}): Promise<Ceiling> {
  const sink = await startSmtpSink();
  try {
    const cpuBefore = readProcessSample(sink.pid)?.cpuTicks ?? 0;
    const run = await runSmtpSource({ port: sink.port, sink, ...options });
    const cpuAfter = readProcessSample(sink.pid)?.cpuTicks ?? cpuBefore;
    return {
      ...run,
      sizeBytes: options.sizeBytes,
      sessions: options.sessions,
      sinkCpuSeconds: (cpuAfter - cpuBefore) / clockTicksPerSecond(),
    };
  } finally {
    await sink.close();
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `target` (TCP host and port, or a UNIX socket path) with connects until one succeeds;
 * throws `failure()`'s problem as soon as it reports one (the server exited), or after
 * `timeoutMs`. Each probe is one empty session for the server.
 */
export async function waitUntilListening(
  target: NetConnectOpts,
  options: {
    what: string;
    timeoutMs: number;
    intervalMs?: number;
    failure?: () => string | undefined;
  },
): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const problem = options.failure?.();
    if (problem !== undefined) throw new Error(problem);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = connect(target);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    if (performance.now() > deadline) {
      throw new Error(`${options.what} did not listen within ${options.timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
