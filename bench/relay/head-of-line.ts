/**
 * Head-of-line scenario: 100 recipient domains, one of them slow and throttling; the
 * throughput of the 99 healthy ones alone, then with the slow one's share mixed in. A relay
 * that lets a slow destination hold its consumer slots or connections shows it as a drop.
 *
 * The relay under test is a process of its own, with routes for the 100 domains: 99 to sinks
 * on 99 ports (a site a relay knows no profile for is named after host:port, so one port per
 * domain keeps them 99 sites, as 99 real providers would be) and one to a server that
 * answers every command after 200–500 ms and gives `421 4.7.0 rate limited` above R
 * messages/s. Marketing `outbound.send` envelopes are published on the bus directly, round
 * robin over the domains, so only the relay is measured.
 */
import type { MessageBus } from '@relais/bus';
import { uniqueName, type ChildRun } from '@relais/testing';
import { startPortSinks } from '../lib/port-sinks';
import { startThrottlingServer } from '../lib/throttling-smtp';
import { bulkRawBase64, openBus, publishOutbound } from './publish';

const DOMAINS = 100;
const HEALTHY = DOMAINS - 1;
// The last one: `d099.hol.bench.test`.
const SLOW_INDEX = DOMAINS - 1;
const domainOf = (index: number) => `d${String(index).padStart(3, '0')}.hol.bench.test`;
// A healthy run that stops making progress this long is reported as a failure.
const STALL_MS = 60_000;

export interface HeadOfLineResult {
  /** Messages to the healthy domains in each run (a whole number of rounds over them). */
  healthyMessages: number;
  /** Messages to the slow domain mixed into the second run (one per round). */
  slowMessages: number;
  slowMaxPerSecond: number;
  healthyAlonePerSecond: number;
  healthyWithSlowPerSecond: number;
  /** How much slower the healthy domains were with the slow one, in % (negative: faster). */
  dropPercent: number;
  /** Slow-domain messages it accepted by the time the last healthy message arrived. */
  slowDelivered: number;
  /** Its 421 replies by then. */
  slow421: number;
}

export async function measureHeadOfLine(options: {
  amqpUrl: string;
  tenantId: string;
  /** The relay's environment (broker, database, profiles); routes and namespace are set here. */
  env: Record<string, string>;
  startRelay: (env: Record<string, string>) => Promise<ChildRun>;
  healthyMessages: number;
  slowMaxPerSecond: number;
  log: (line: string) => void;
}): Promise<HeadOfLineResult> {
  const { log } = options;
  const rounds = Math.ceil(options.healthyMessages / HEALTHY);
  const healthyMessages = rounds * HEALTHY;
  const sinks = await startPortSinks(HEALTHY);
  const slow = await startThrottlingServer({ maxPerSecond: options.slowMaxPerSecond });
  const namespace = uniqueName('hol');
  const routes = Array.from({ length: DOMAINS }, (_, index) => ({
    pattern: domainOf(index),
    host: '127.0.0.1',
    port: index === SLOW_INDEX ? slow.port : sinks.ports[index]!,
  }));
  let relay: ChildRun | undefined;
  let bus: MessageBus | undefined;
  try {
    bus = await openBus(options.amqpUrl, namespace);
    const client = bus;
    relay = await options.startRelay({
      ...options.env,
      NAMESPACE: namespace,
      RELAY__ROUTES: JSON.stringify(routes),
    });
    const rawBase64 = bulkRawBase64(`bulk@${domainOf(0)}`);

    /** Publishes `count` messages to `domain(i)` and times the healthy ones to the sinks. */
    const run = async (count: number, domain: (index: number) => number, healthy: number) => {
      const before = sinks.received();
      const startMs = performance.now();
      await publishOutbound(client, {
        tenantId: options.tenantId,
        count,
        rcptTo: (index) => `r${index}@${domainOf(domain(index))}`,
        rawBase64,
      });
      await sinks.waitForReceived(before + healthy, STALL_MS);
      return healthy / ((sinks.lastAtMs() - startMs) / 1000);
    };
    // Warm-up: JIT, the 99 sites' controllers and connection pools; too short a one leaves
    // the first measured run paying for it.
    const warmUp = Math.max(10, Math.ceil(rounds / 4)) * HEALTHY;
    await run(warmUp, (index) => index % HEALTHY, warmUp);
    const healthyAlonePerSecond = await run(
      healthyMessages,
      (index) => index % HEALTHY,
      healthyMessages,
    );
    log(
      `head-of-line: ${healthyMessages} messages to ${HEALTHY} healthy domains alone: ` +
        `${healthyAlonePerSecond.toFixed(0)} msg/s`,
    );
    const healthyWithSlowPerSecond = await run(
      rounds * DOMAINS,
      (index) => index % DOMAINS,
      healthyMessages,
    );
    const slowDelivered = slow.delivered();
    const slow421 = slow.throttled();
    const dropPercent = (1 - healthyWithSlowPerSecond / healthyAlonePerSecond) * 100;
    log(
      `head-of-line: the same plus ${rounds} to a slow domain (421 above ` +
        `${options.slowMaxPerSecond} msg/s): healthy ${healthyWithSlowPerSecond.toFixed(0)} msg/s, ` +
        `drop ${dropPercent.toFixed(1)} %; slow domain ${slowDelivered} delivered, ` +
        `${slow421} × 421 in ${slow.sessions()} sessions by then`,
    );
    return {
      healthyMessages,
      slowMessages: rounds,
      slowMaxPerSecond: options.slowMaxPerSecond,
      healthyAlonePerSecond: Math.round(healthyAlonePerSecond),
      healthyWithSlowPerSecond: Math.round(healthyWithSlowPerSecond),
      dropPercent: Number(dropPercent.toFixed(1)),
      slowDelivered,
      slow421,
    };
  } finally {
    await bus?.close();
    if (relay !== undefined) {
      relay.signal('SIGTERM');
      await relay.exited;
    }
    await slow.close();
    await sinks.close();
  }
}
