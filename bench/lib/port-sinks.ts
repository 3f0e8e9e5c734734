import type { Server } from 'node:net';
import { closeServer, listenLocal, sinkSessions } from './mini-smtp';

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

export async function startPortSinks(count: number): Promise<PortSinks> {
  let received = 0;
  let lastAtMs = Number.NaN;
  const sessions = sinkSessions({
    name: 'sink.hol.bench.test',
    onMessage: () => {
      received += 1;
      lastAtMs = performance.now();
    },
  });
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const { server, port } = await listenLocal(sessions.onSession);
    servers.push(server);
    ports.push(port);
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
      sessions.destroyAll();
      await Promise.all(servers.map(closeServer));
    },
  };
}
