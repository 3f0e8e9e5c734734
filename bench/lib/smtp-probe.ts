import { connect } from 'node:net';
import { closeServer, listenLocal, sinkSessions } from './mini-smtp';

/**
 * Latency probes for a relay under load: a client submits one small message at a time, to
 * `p<n>@<domain>`, each over a connection of its own as a service sending a receipt would,
 * and notes when it started connecting and when the relay answered 250; a sink of its own
 * (the probe domain is routed to it) notes when the message's final "." arrived. Two
 * latencies per probe: from the connect to the sink (what the sender waits, submission
 * included) and from the relay's 250 to the sink (the relay's queueing and delivery alone).
 */
export interface ProbeSink {
  port: number;
  /** Arrival time (performance.now) by probe number. */
  arrivals: Map<number, number>;
  /** Messages received that were not probes (bulk sharing the probes' destination). */
  others(): number;
  /** When (performance.now) the last of those arrived; NaN before the first. */
  lastOtherAtMs(): number;
  close(): Promise<void>;
}

/** A minimal SMTP server that accepts everything and records probe arrivals. */
export async function startProbeSink(): Promise<ProbeSink> {
  const arrivals = new Map<number, number>();
  let others = 0;
  let lastOtherAtMs = Number.NaN;
  const sessions = sinkSessions({
    name: 'probe-sink',
    onMessage: ({ rcptLines }) => {
      const now = performance.now();
      const probes = rcptLines.flatMap((line) => {
        const match = /<p(\d+)@/i.exec(line);
        return match ? [Number(match[1])] : [];
      });
      for (const probe of probes) arrivals.set(probe, now);
      if (probes.length === 0) {
        others += 1;
        lastOtherAtMs = now;
      }
    },
  });
  const { server, port } = await listenLocal(sessions.onSession);
  return {
    port,
    arrivals,
    others: () => others,
    lastOtherAtMs: () => lastOtherAtMs,
    close: () => {
      sessions.destroyAll();
      return closeServer(server);
    },
  };
}

/** One SMTP connection, without TLS or AUTH, greeted and past EHLO. */
async function openSession(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffer = '';
  const waiting: ((reply: string) => void)[] = [];
  let current: string[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      current.push(line);
      if (line[3] === '-') continue;
      const reply = current.join('\n');
      current = [];
      waiting.shift()?.(reply);
    }
  });
  // A reset or a closed connection answers every pending command with a non-250, so a probe
  // the relay dropped counts as not accepted instead of hanging the run.
  const fail = (): void => {
    for (const resolve of waiting.splice(0)) resolve('000 connection lost');
  };
  socket.on('error', fail);
  socket.on('close', fail);
  const reply = () => new Promise<string>((resolve) => waiting.push(resolve));
  const command = (line: string) => {
    const answer = reply();
    socket.write(`${line}\r\n`);
    return answer;
  };
  await reply();
  await command('EHLO probe.bench.test');
  return {
    command,
    close: () => {
      socket.end('QUIT\r\n');
      socket.destroy();
    },
  };
}

let lastProbeId = 0;

/** Latencies in ms of the probes that arrived; `sent` counts every probe accepted. */
export interface ProbeResult {
  sent: number;
  /** From the relay's 250 to the final "." at the sink. */
  latenciesMs: number[];
  /** From the start of the connect (submission included) to the final "." at the sink. */
  submissionLatenciesMs: number[];
}

/**
 * Sends a probe every `intervalMs` (one connection each) until `until` settles, then waits
 * up to `drainMs` for the last ones to arrive at the probe sink.
 */
export async function runProbes(options: {
  port: number;
  domain: string;
  sink: ProbeSink;
  intervalMs: number;
  until: Promise<unknown>;
  drainMs?: number;
}): Promise<ProbeResult> {
  const accepted = new Map<number, { connectAtMs: number; acceptedAtMs: number }>();
  let done = false;
  void options.until.finally(() => {
    done = true;
  });
  while (!done) {
    // Numbered across runs: a late probe of an earlier run is never taken for one of these.
    const id = (lastProbeId += 1);
    const connectAtMs = performance.now();
    const session = await openSession(options.port).catch(() => undefined);
    if (session !== undefined) {
      try {
        await session.command('MAIL FROM:<probe@source.bench.test>');
        await session.command(`RCPT TO:<p${id}@${options.domain}>`);
        await session.command('DATA');
        const reply = await session.command(
          `From: <probe@source.bench.test>\r\nTo: <p${id}@${options.domain}>\r\n` +
            `Subject: probe ${id}\r\nMessage-ID: <probe-${id}-${Date.now()}@source.bench.test>\r\n` +
            `Date: ${new Date().toUTCString()}\r\n\r\nprobe\r\n.`,
        );
        if (reply.startsWith('250')) {
          accepted.set(id, { connectAtMs, acceptedAtMs: performance.now() });
        }
      } finally {
        session.close();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  const deadline = performance.now() + (options.drainMs ?? 30_000);
  const missing = () => [...accepted.keys()].some((id) => !options.sink.arrivals.has(id));
  while (performance.now() < deadline && missing()) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const latenciesMs: number[] = [];
  const submissionLatenciesMs: number[] = [];
  for (const [id, at] of accepted) {
    const arrived = options.sink.arrivals.get(id);
    if (arrived === undefined) continue;
    latenciesMs.push(arrived - at.acceptedAtMs);
    submissionLatenciesMs.push(arrived - at.connectAtMs);
  }
  options.sink.arrivals.clear();
  return { sent: accepted.size, latenciesMs, submissionLatenciesMs };
}

/** The q-quantile (0–1) of the values, nearest rank; NaN when there are none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
