import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * SMTP sinks on many ports at once, counting every message they accept. A relay shapes
 * traffic per site, and a site it knows nothing about is named after its host and port:
 * recipient domains routed to one sink port would all be one site, so each domain that must
 * be a site of its own gets a port of its own.
 */
export interface PortSinks {
  ports: number[];
  /** Messages accepted on every port together. */
  received(): number;
  /** When (performance.now) the last message was accepted; NaN before the first. */
  lastAtMs(): number;
  /** Resolves once `received() >= count`; rejects after `stallMs` without a new message. */
  waitForReceived(count: number, stallMs: number): Promise<void>;
  close(): Promise<void>;
}

const TERMINATOR = '\r\n.\r\n';

export async function startPortSinks(count: number): Promise<PortSinks> {
  let received = 0;
  let lastAtMs = Number.NaN;
  const sockets = new Set<Socket>();
  const onSession = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    let inData = false;
    // Where the terminator search resumes, so a large message is not scanned again per chunk.
    let searchFrom = 0;
    socket.write('220 sink.hol.bench.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let replies = '';
      for (;;) {
        if (inData) {
          const end = buffer.indexOf(TERMINATOR, searchFrom);
          if (end === -1) {
            searchFrom = Math.max(0, buffer.length - TERMINATOR.length);
            break;
          }
          buffer = buffer.slice(end + TERMINATOR.length);
          inData = false;
          searchFrom = 0;
          received += 1;
          lastAtMs = performance.now();
          replies += '250 2.0.0 ok\r\n';
          continue;
        }
        const end = buffer.indexOf('\r\n');
        if (end === -1) break;
        const verb = buffer.slice(0, 4).toUpperCase();
        buffer = buffer.slice(end + 2);
        if (verb === 'EHLO')
          replies += '250-sink.hol.bench.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n';
        else if (verb === 'DATA') {
          inData = true;
          replies += '354 go on\r\n';
          // The terminator search needs the CRLF that ended the DATA line.
          buffer = `\r\n${buffer}`;
        } else if (verb === 'QUIT') {
          socket.end(`${replies}221 bye\r\n`);
          return;
        } else replies += '250 ok\r\n';
      }
      if (replies !== '') socket.write(replies);
    });
  };
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const server = createServer(onSession);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  return {
    ports,
    received: () => received,
    lastAtMs: () => lastAtMs,
    async waitForReceived(target, stallMs) {
      let seen = received;
      let progressAtMs = performance.now();
      while (received < target) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (received !== seen) {
          seen = received;
          progressAtMs = performance.now();
        } else if (performance.now() - progressAtMs > stallMs) {
          throw new Error(
            `sinks received ${received} of ${target} messages, none for ${stallMs} ms`,
          );
        }
      }
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
    },
  };
}
