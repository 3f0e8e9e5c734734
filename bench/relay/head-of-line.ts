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
import { readFileSync, readdirSync } from 'node:fs';
import type { MessageBus } from '@relais/bus';
import { uniqueName, type ChildRun } from '@relais/testing';
import { startPortSinks, type PortSinks } from '../lib/port-sinks';
import { ProcessSampler } from '../lib/proc-stats';
import { startThrottlingServer } from '../lib/throttling-smtp';
import { bulkRawBase64, openBus, publishOutbound } from './publish';

const DOMAINS = 100;
const HEALTHY = DOMAINS - 1;
// The last one: `d099.hol.bench.test`.
const SLOW_INDEX = DOMAINS - 1;
const domainOf = (index: number) => `d${String(index).padStart(3, '0')}.hol.bench.test`;
// A healthy run that stops making progress this long is reported as a failure.
const STALL_MS = 60_000;

/** One relay process, one run without the slow domain and one with it. */
export interface HeadOfLinePair {
  healthyAlonePerSecond: number;
  healthyWithSlowPerSecond: number;
  /** How much slower the healthy domains were with the slow one, in % (negative: faster). */
  dropPercent: number;
  /** Slow-domain messages it accepted by the time the last healthy message arrived. */
  slowDelivered: number;
  /** Its 421 replies by then. */
  slow421: number;
  /** Most connections the relay held open to it at once (its profile allows 20). */
  slowPeakConnections: number;
  /**
   * CPU-seconds of the relay process per 1,000 healthy messages in each run: the same in
   * both with a lower throughput points at waiting (slots, connections), higher at work.
   */
  relayCpuSecondsPer1k: { alone: number; withSlow: number };
  /** The same for RabbitMQ when it runs on this machine (null otherwise). */
  brokerCpuSecondsPer1k: { alone: number; withSlow: number } | null;
}

/** The pairs' medians (each figure on its own), and every pair. */
export interface HeadOfLineResult extends HeadOfLinePair {
  /** Messages to the healthy domains in each run (a whole number of rounds over them). */
  healthyMessages: number;
  /** Messages to the slow domain mixed into the second run (one per round). */
  slowMessages: number;
  slowMaxPerSecond: number;
  pairs: HeadOfLinePair[];
}

interface Options {
  amqpUrl: string;
  tenantId: string;
  /** The relay's environment (broker, database, profiles); routes and namespace are set here. */
  env: Record<string, string>;
  startRelay: (env: Record<string, string>) => Promise<ChildRun>;
  healthyMessages: number;
  slowMaxPerSecond: number;
  /** Pairs of runs, each with a relay process of its own (a fresh start, no slow backlog). */
  pairs: number;
  log: (line: string) => void;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export async function measureHeadOfLine(options: Options): Promise<HeadOfLineResult> {
  const rounds = Math.ceil(options.healthyMessages / HEALTHY);
  const sinks = await startPortSinks(HEALTHY);
  try {
    const pairs: HeadOfLinePair[] = [];
    for (let pair = 1; pair <= options.pairs; pair += 1) {
      pairs.push(
        await measurePair(options, sinks, rounds, `head-of-line ${pair}/${options.pairs}`),
      );
    }
    const of = (pick: (pair: HeadOfLinePair) => number, digits = 0) =>
      round(median(pairs.map(pick)), digits);
    const brokerMeasured = pairs.every((pair) => pair.brokerCpuSecondsPer1k !== null);
    const result: HeadOfLineResult = {
      healthyMessages: rounds * HEALTHY,
      slowMessages: rounds,
      slowMaxPerSecond: options.slowMaxPerSecond,
      healthyAlonePerSecond: of((pair) => pair.healthyAlonePerSecond),
      healthyWithSlowPerSecond: of((pair) => pair.healthyWithSlowPerSecond),
      dropPercent: of((pair) => pair.dropPercent, 1),
      slowDelivered: of((pair) => pair.slowDelivered, 1),
      slow421: of((pair) => pair.slow421, 1),
      slowPeakConnections: of((pair) => pair.slowPeakConnections, 1),
      relayCpuSecondsPer1k: {
        alone: of((pair) => pair.relayCpuSecondsPer1k.alone, 2),
        withSlow: of((pair) => pair.relayCpuSecondsPer1k.withSlow, 2),
      },
      brokerCpuSecondsPer1k: brokerMeasured
        ? {
            alone: of((pair) => pair.brokerCpuSecondsPer1k?.alone ?? Number.NaN, 2),
            withSlow: of((pair) => pair.brokerCpuSecondsPer1k?.withSlow ?? Number.NaN, 2),
          }
        : null,
      pairs,
    };
    if (options.pairs > 1) {
      options.log(
        `head-of-line (median of ${options.pairs}): healthy ${result.healthyAlonePerSecond} ` +
          `msg/s alone, ${result.healthyWithSlowPerSecond} msg/s with the slow domain, drop ` +
          `${result.dropPercent} % (pairs: ${pairs.map((p) => p.dropPercent).join(', ')} %)`,
      );
    }
    return result;
  } finally {
    await sinks.close();
  }
}

const brokerCpu = (run: { brokerCpuSecondsPer1k: number | undefined }) =>
  run.brokerCpuSecondsPer1k === undefined
    ? ''
    : ` (broker ${run.brokerCpuSecondsPer1k.toFixed(2)})`;

/** The pid of a local process by its command name (`/proc/<pid>/comm`), if one runs. */
function findProcess(comm: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) return Number(entry);
    } catch {
      // Gone since the listing.
    }
  }
  return undefined;
}

async function measurePair(
  options: Options,
  sinks: PortSinks,
  rounds: number,
  label: string,
): Promise<HeadOfLinePair> {
  const { log } = options;
  const healthyMessages = rounds * HEALTHY;
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
    const relayPid = relay.pid;
    const brokerPid = findProcess('beam.smp');
    const rawBase64 = bulkRawBase64(`bulk@${domainOf(0)}`);

    /** Publishes `count` messages to `domain(i)` and times the healthy ones to the sinks. */
    const run = async (count: number, domain: (index: number) => number, healthy: number) => {
      const before = sinks.received();
      const sampler = new ProcessSampler();
      const pids = new Map([['mta-relay', relayPid]]);
      if (brokerPid !== undefined) pids.set('broker', brokerPid);
      sampler.start(pids, 250);
      const startMs = performance.now();
      let usage: ReturnType<ProcessSampler['stop']> = {};
      try {
        await publishOutbound(client, {
          tenantId: options.tenantId,
          count,
          rcptTo: (index) => `r${index}@${domainOf(domain(index))}`,
          rawBase64,
        });
        await sinks.waitForReceived(before + healthy, STALL_MS);
      } finally {
        usage = sampler.stop();
      }
      const per1k = (name: string) => ((usage[name]?.cpuSeconds ?? Number.NaN) / healthy) * 1000;
      return {
        perSecond: healthy / ((sinks.lastAtMs() - startMs) / 1000),
        cpuSecondsPer1k: per1k('mta-relay'),
        brokerCpuSecondsPer1k: brokerPid === undefined ? undefined : per1k('broker'),
      };
    };
    // Warm-up: JIT, the 99 sites' controllers and connection pools; too short a one leaves
    // the first measured run paying for it.
    const warmUp = Math.max(10, Math.ceil(rounds / 4)) * HEALTHY;
    await run(warmUp, (index) => index % HEALTHY, warmUp);
    const alone = await run(healthyMessages, (index) => index % HEALTHY, healthyMessages);
    log(
      `${label}: ${healthyMessages} messages to ${HEALTHY} healthy domains alone: ` +
        `${alone.perSecond.toFixed(0)} msg/s, relay ${alone.cpuSecondsPer1k.toFixed(2)} CPU-s/1k` +
        brokerCpu(alone),
    );
    const withSlow = await run(rounds * DOMAINS, (index) => index % DOMAINS, healthyMessages);
    const slowDelivered = slow.delivered();
    const slow421 = slow.throttled();
    const dropPercent = (1 - withSlow.perSecond / alone.perSecond) * 100;
    log(
      `${label}: the same plus ${rounds} to a slow domain (421 above ` +
        `${options.slowMaxPerSecond} msg/s): healthy ${withSlow.perSecond.toFixed(0)} msg/s, ` +
        `relay ${withSlow.cpuSecondsPer1k.toFixed(2)} CPU-s/1k${brokerCpu(withSlow)}, ` +
        `drop ${dropPercent.toFixed(1)} %; slow domain ${slowDelivered} delivered, ` +
        `${slow421} × 421 in ${slow.sessions()} sessions (at most ${slow.peakSessions()} at once) by then`,
    );
    return {
      healthyAlonePerSecond: Math.round(alone.perSecond),
      healthyWithSlowPerSecond: Math.round(withSlow.perSecond),
      dropPercent: round(dropPercent, 1),
      slowDelivered,
      slow421,
      slowPeakConnections: slow.peakSessions(),
      relayCpuSecondsPer1k: {
        alone: round(alone.cpuSecondsPer1k, 2),
        withSlow: round(withSlow.cpuSecondsPer1k, 2),
      },
      brokerCpuSecondsPer1k:
        alone.brokerCpuSecondsPer1k === undefined || withSlow.brokerCpuSecondsPer1k === undefined
          ? null
          : {
              alone: round(alone.brokerCpuSecondsPer1k, 2),
              withSlow: round(withSlow.brokerCpuSecondsPer1k, 2),
            },
    };
  } finally {
    await bus?.close();
    if (relay !== undefined) {
      relay.signal('SIGTERM');
      await relay.exited;
    }
    await slow.close();
  }
}
