import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** One message as a minimal sink saw it. */
export interface SunkMessage {
  /** The RCPT TO command lines of its transaction, as sent. */
  rcptLines: string[];
  /** Its text, dot-stuffing undone; only when the sink was asked to keep it. */
  data?: string;
}

const TERMINATOR = '\r\n.\r\n';

/**
 * The session handler of an in-process SMTP sink that accepts everything (pipelined commands
 * answered in one write) and calls `onMessage` as each final "." arrives. The benches' probe,
 * capture and per-port sinks are this with different bookkeeping.
 */
export function sinkSessions(options: {
  name: string;
  keepData?: boolean;
  onMessage(message: SunkMessage): void;
}): { onSession(socket: Socket): void; destroyAll(): void } {
  const sockets = new Set<Socket>();
  const onSession = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    let inData = false;
    let rcptLines: string[] = [];
    // Where the terminator search resumes, so a large message is not scanned again per chunk.
    let searchFrom = 0;
    socket.write(`220 ${options.name} ESMTP\r\n`);
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
          // The leading CRLF is the DATA line's, put back below.
          const data = options.keepData
            ? buffer.slice(2, end + 2).replace(/\r\n\.\./g, '\r\n.')
            : undefined;
          buffer = buffer.slice(end + TERMINATOR.length);
          inData = false;
          searchFrom = 0;
          options.onMessage({ rcptLines, ...(data === undefined ? {} : { data }) });
          rcptLines = [];
          replies += '250 2.0.0 ok\r\n';
          continue;
        }
        const end = buffer.indexOf('\r\n');
        if (end === -1) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') replies += `250-${options.name}\r\n250-PIPELINING\r\n250 8BITMIME\r\n`;
        else if (verb === 'RCPT') {
          rcptLines.push(line);
          replies += '250 2.1.5 ok\r\n';
        } else if (verb === 'DATA') {
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
  return {
    onSession,
    destroyAll: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Listens on a free port of 127.0.0.1. */
export async function listenLocal(onSession: (socket: Socket) => void): Promise<{
  server: Server;
  port: number;
}> {
  const server = createServer(onSession);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
