import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A slow receiving server that throttles, like a large provider pushing back on a sender:
 * every reply (greeting included) comes after a random 200–500 ms by default, and a MAIL
 * FROM beyond `maxPerSecond` messages in the last second is answered
 * `421 4.7.0 rate limited, try again later` and the connection closed (RFC 5321 §3.8: 421
 * means the server is closing the channel).
 */
export interface ThrottlingServer {
  port: number;
  /** Messages accepted (250 after the final "."). */
  delivered(): number;
  /** 421 replies given. */
  throttled(): number;
  /** Sessions opened so far. */
  sessions(): number;
  /** Most sessions open at once so far: how many connections the sender held. */
  peakSessions(): number;
  close(): Promise<void>;
}

export interface ThrottlingServerOptions {
  /** Messages per second (sliding one-second window) above which MAIL FROM gets a 421. */
  maxPerSecond: number;
  /** Each reply waits a uniformly random time in this range. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

type Step = { kind: 'command'; line: string } | { kind: 'end-of-data' };

export async function startThrottlingServer(
  options: ThrottlingServerOptions,
): Promise<ThrottlingServer> {
  const minDelayMs = options.minDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 500;
  const delay = () =>
    new Promise((resolve) =>
      setTimeout(resolve, minDelayMs + Math.random() * (maxDelayMs - minDelayMs)),
    );
  // Start times of the messages let through, oldest first (one second's worth at most).
  const window: number[] = [];
  const admit = (): boolean => {
    const now = performance.now();
    while (window.length > 0 && window[0]! <= now - 1000) window.shift();
    if (window.length >= options.maxPerSecond) return false;
    window.push(now);
    return true;
  };
  let delivered = 0;
  let throttled = 0;
  let sessions = 0;
  let peakSessions = 0;
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sessions += 1;
    sockets.add(socket);
    peakSessions = Math.max(peakSessions, sockets.size);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let closed = false;
    let wake: (() => void) | undefined;
    socket.on('close', () => {
      closed = true;
      wake?.();
    });
    const steps: Step[] = [];
    let buffer = '';
    let inData = false;
    // Parsing runs ahead of the replies: a pipelining client sends MAIL, RCPT and DATA at
    // once, and the data that follows DATA must not be read as commands.
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            steps.push({ kind: 'end-of-data' });
          }
          continue;
        }
        if (line.slice(0, 4).toUpperCase() === 'DATA') inData = true;
        steps.push({ kind: 'command', line });
      }
      wake?.();
    });
    const reply = async (text: string): Promise<void> => {
      await delay();
      if (!closed) socket.write(`${text}\r\n`);
    };
    void (async () => {
      await reply('220 slow.hol.bench.test ESMTP');
      while (!closed) {
        const step = steps.shift();
        if (step === undefined) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        if (step.kind === 'end-of-data') {
          await reply('250 2.0.0 queued');
          if (!closed) delivered += 1;
          continue;
        }
        const verb = step.line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') {
          await reply('250-slow.hol.bench.test\r\n250-PIPELINING\r\n250 8BITMIME');
        } else if (verb === 'MAIL') {
          if (admit()) await reply('250 2.1.0 ok');
          else {
            throttled += 1;
            await reply('421 4.7.0 rate limited, try again later');
            socket.end();
            return;
          }
        } else if (verb === 'DATA') await reply('354 go on');
        else if (verb === 'QUIT') {
          await reply('221 2.0.0 bye');
          socket.end();
          return;
        } else await reply('250 2.0.0 ok');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    delivered: () => delivered,
    throttled: () => throttled,
    sessions: () => sessions,
    peakSessions: () => peakSessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
