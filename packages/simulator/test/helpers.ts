import { createLogger } from '@relais/telemetry';
import { createTransport } from 'nodemailer';
import {
  startSimulator,
  type Clock,
  type ProviderProfileInput,
  type Simulator,
  type SimulatorOptions,
} from '../src/index';

export const silentLogger = createLogger({ service: 'simulator-test', level: 'silent' });

/** A clock that only moves when the test says so; latency sleeps return at once. */
export function manualClock(startMs = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    sleep: async () => {},
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

/** Starts a simulator with one provider on an ephemeral loopback port. */
export async function startOne(
  profile: Partial<ProviderProfileInput>,
  options: Partial<SimulatorOptions> = {},
): Promise<Simulator> {
  return startSimulator({
    profiles: [{ name: 'mbox', domains: ['mbox.test'], ...profile }],
    logger: silentLogger,
    ...options,
  });
}

/** A nodemailer transport to the provider serving `domain`. */
export function transportFor(simulator: Simulator, domain = 'mbox.test', pool = false) {
  const route = simulator.routes().find((r) => r.pattern === domain);
  if (route === undefined) throw new Error(`no route for ${domain}`);
  const base = { host: route.host, port: route.port, secure: false, ignoreTLS: true };
  return pool ? createTransport({ ...base, pool: true, maxConnections: 1 }) : createTransport(base);
}

/** A small RFC 5322 message. */
export function plainMessage(to: string, body = 'Hello from the relay.'): string {
  return [
    'From: Sender <news@sender.test>',
    `To: <${to}>`,
    'Subject: Test',
    'Date: Tue, 01 Jul 2025 10:00:00 +0000',
    'Message-ID: <m1@sender.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
}

/** The SMTP error nodemailer raised, or null when the send succeeded. */
export async function sendError(
  promise: Promise<unknown>,
): Promise<{ responseCode?: number; response?: string } | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    return error as { responseCode?: number; response?: string };
  }
}
