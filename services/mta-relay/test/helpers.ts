import { createServer } from 'node:net';
import { MessageBus, createMemoryTransport, relaisWorkQueues, type Transport } from '@relais/bus';
import { createEnvelope, type Envelope, type MessageType } from '@relais/domain';
import {
  startSimulator,
  type DnsResolver,
  type ProviderProfileInput,
  type Simulator,
  type SimulatorRoute,
} from '@relais/simulator';
import { createLogger } from '@relais/telemetry';
import { uniqueName } from '@relais/testing';
import { randomUUID } from 'node:crypto';
import {
  relaySettingsSchema,
  runRelay,
  type MxResolver,
  type Relay,
  type RelayOptions,
  type RelaySettings,
} from '../src/index';

export const silentLogger = createLogger({ service: 'mta-relay-test', level: 'silent' });

/** Every delivery event the relay published, by type. */
export type DeliveryEvent =
  | Envelope<'delivery.delivered'>
  | Envelope<'delivery.deferred'>
  | Envelope<'delivery.bounced'>
  | Envelope<'delivery.expired'>;

/** A relay on a memory bus against a simulator, with everything it published recorded. */
export interface Harness {
  bus: MessageBus;
  relay: Relay;
  simulator: Simulator;
  namespace: string;
  events: DeliveryEvent[];
  deadLettered: string[];
  /** Publishes an `outbound.send` for `rcptTo` and returns its message id. */
  send(rcptTo: string, overrides?: Partial<Envelope<'outbound.send'>['data']>): Promise<string>;
  /** The events of one message, in publish order. */
  eventsOf(messageId: string): DeliveryEvent[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  profiles: ProviderProfileInput[];
  /** Relay settings; a function sees the simulator's listening ports first. */
  settings?: Partial<RelaySettings> | ((simulator: Simulator) => Partial<RelaySettings>);
  /** Default: every simulator domain routed statically. */
  routes?: 'simulator' | 'none';
  resolver?: MxResolver;
  retryTiersMs?: number[];
  maxAttempts?: number;
  /** Default: the in-memory transport. */
  transport?: () => Promise<Transport>;
  /** Wraps the memory transport (to fail or hold publishes, watch acks). */
  wrapTransport?: (transport: Transport, namespace: string) => Transport;
  /** Where the simulator looks DKIM keys up; default: no keys. */
  dkimResolver?: DnsResolver;
  /** More relay options (stores, clock). */
  relayOptions?: RelayOptions;
}

const TENANT = randomUUID();

/** A small RFC 5322 message. */
export function plainMessage(to: string): string {
  return [
    'From: Sender <news@sender.test>',
    `To: <${to}>`,
    'Subject: Relay test',
    'Date: Tue, 01 Jul 2025 10:00:00 +0000',
    `Message-ID: <${randomUUID()}@sender.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello from the relay.',
    '',
  ].join('\r\n');
}

export function outboundSend(
  rcptTo: string,
  overrides: Partial<Envelope<'outbound.send'>['data']> = {},
): Envelope<'outbound.send'> {
  return createEnvelope({
    type: 'outbound.send',
    tenantId: TENANT,
    data: {
      messageId: randomUUID(),
      campaignId: randomUUID(),
      messageClass: 'marketing',
      pool: 'default',
      mailFrom: 'bounce+abc@sender.test',
      rcptTo,
      rawBase64: Buffer.from(plainMessage(rcptTo)).toString('base64'),
      firstAttemptAt: new Date().toISOString(),
      attempt: 1,
      ...overrides,
    },
  });
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const namespace = uniqueName('relay').replace(/_/g, '-');
  const simulator = await startSimulator({
    profiles: options.profiles,
    logger: silentLogger,
    ...(options.dkimResolver === undefined ? {} : { dkimResolver: options.dkimResolver }),
  });
  const base =
    options.transport === undefined ? createMemoryTransport() : await options.transport();
  const transport = options.wrapTransport?.(base, namespace) ?? base;
  const retryTiersMs = options.retryTiersMs ?? [200];
  const maxAttempts = options.maxAttempts ?? 5;
  const bus = new MessageBus({
    transport,
    logger: silentLogger,
    namespace,
    retryTiersMs,
    maxAttempts,
  });
  await bus.declare(relaisWorkQueues(namespace));
  const events: DeliveryEvent[] = [];
  const record = async (envelope: DeliveryEvent) => void events.push(envelope);
  await bus.subscribe(`${namespace}.analytics.events`, {
    'delivery.delivered': record,
    'delivery.deferred': record,
    'delivery.bounced': record,
    'delivery.expired': record,
  });
  const deadLettered: string[] = [];
  const dead = async (envelope: Envelope) => void deadLettered.push(envelope.type);
  const everyType = Object.fromEntries(
    (['outbound.send', 'delivery.delivered'] as MessageType[]).map((type) => [type, dead]),
  );
  await bus.subscribe(`${namespace}.dead-letter`, everyType);
  // Every deferral class waits one bus tier, so a test sees its retries within the tier.
  const tier = `${retryTiersMs[0] ?? 200}ms`;
  const settings = relaySettingsSchema.parse({
    routes: options.routes === 'none' ? [] : simulator.routes(),
    idleTimeout: '5s',
    deferralDelays: {
      greylisting: [tier],
      mailboxFull: [tier],
      noConnection: [tier],
      other: [tier],
      rateLimitedMin: tier,
    },
    ...(typeof options.settings === 'function' ? options.settings(simulator) : options.settings),
  });
  const relay = await runRelay(
    bus,
    silentLogger,
    { ...settings, namespace },
    {
      retryTiersMs,
      maxAttempts,
      ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
      ...options.relayOptions,
    },
  );
  return {
    bus,
    relay,
    simulator,
    namespace,
    events,
    deadLettered,
    async send(rcptTo, overrides) {
      const envelope = outboundSend(rcptTo, overrides);
      await bus.publish(envelope);
      return envelope.data.messageId;
    },
    eventsOf: (messageId) => events.filter((event) => event.data.messageId === messageId),
    async close() {
      await relay.stopConsuming();
      await bus.close();
      await relay.closePools();
      await simulator.close();
    },
  };
}

export async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The simulator's route for a domain pattern. */
export function routeOf(simulator: Simulator, pattern: string): SimulatorRoute {
  const route = simulator.routes().find((candidate) => candidate.pattern === pattern);
  if (route === undefined) throw new Error(`no simulator route for ${pattern}`);
  return route;
}
