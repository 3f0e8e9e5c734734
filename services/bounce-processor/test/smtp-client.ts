import { connect, type Socket } from 'node:net';

/** A raw SMTP client: every byte is the test's, so it can send what real clients would not. */
export interface RawSmtp {
  /** The next complete reply (all its lines, joined by \n). */
  reply(): Promise<string>;
  /** Sends a command line (CRLF added) and returns its reply. */
  command(line: string): Promise<string>;
  write(bytes: string | Buffer): void;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
  end(): void;
}

export async function rawSmtp(port: number): Promise<RawSmtp> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  let buffer = '';
  const replies: string[] = [];
  const waiting: Array<(reply: string) => void> = [];
  let current: string[] = [];
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.on('data', (data: Buffer) => {
    buffer += data.toString('latin1');
    for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      current.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = current.join('\n');
        current = [];
        const next = waiting.shift();
        if (next) next(reply);
        else replies.push(reply);
      }
    }
  });
  const reply = () =>
    new Promise<string>((resolve, reject) => {
      const queued = replies.shift();
      if (queued !== undefined) return resolve(queued);
      const timer = setTimeout(() => reject(new Error('no SMTP reply within 10 s')), 10_000);
      waiting.push((text) => {
        clearTimeout(timer);
        resolve(text);
      });
    });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return {
    reply,
    command: (line) => {
      socket.write(`${line}\r\n`);
      return reply();
    },
    write: (bytes) => socket.write(bytes),
    closed,
    end: () => socket.end(),
  };
}

/** Greeting and EHLO done; returns the client and the EHLO reply. */
export async function greeted(port: number): Promise<{ smtp: RawSmtp; ehlo: string }> {
  const smtp = await rawSmtp(port);
  const greeting = await smtp.reply();
  if (!greeting.startsWith('220')) throw new Error(`unexpected greeting ${greeting}`);
  const ehlo = await smtp.command('EHLO client.example.net');
  return { smtp, ehlo };
}
