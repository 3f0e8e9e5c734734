import { RssSampler } from '../lib/rss';

/** What one benchmark run reports. */
export interface RunResult {
  name: string;
  messages: number;
  perSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  cpuSecondsPer1k: number;
  peakRssMb: number;
}

/**
 * Measures one run: wall time from the first publish to the last ack, per-message
 * publish→consume latency, CPU of this process, and peak RSS.
 */
export class Meter {
  private readonly sentAt: Float64Array;
  private readonly latencies: Float64Array;
  private consumed = 0;
  private startMs = 0;
  private endMs = 0;
  private cpuStart: NodeJS.CpuUsage = process.cpuUsage();
  private readonly rss = new RssSampler();
  private finished: () => void = () => undefined;
  /** Settles when every message was consumed once. */
  readonly done: Promise<void>;
  private readonly seen: Uint8Array;

  constructor(readonly messages: number) {
    this.sentAt = new Float64Array(messages);
    this.latencies = new Float64Array(messages);
    this.seen = new Uint8Array(messages);
    this.done = new Promise((resolve) => {
      this.finished = resolve;
    });
  }

  start(): void {
    this.rss.start();
    this.cpuStart = process.cpuUsage();
    this.startMs = performance.now();
  }

  /** Call right before handing message `index` to the publisher. */
  published(index: number): void {
    this.sentAt[index] = performance.now();
  }

  /** Call when message `index` reached its consumer; duplicates are ignored. */
  consumedOne(index: number): void {
    if (index < 0 || index >= this.messages || this.seen[index] === 1) return;
    this.seen[index] = 1;
    const now = performance.now();
    this.latencies[this.consumed] = now - (this.sentAt[index] ?? now);
    this.consumed += 1;
    if (this.consumed === this.messages) {
      this.endMs = now;
      this.finished();
    }
  }

  result(name: string): RunResult {
    const cpu = process.cpuUsage(this.cpuStart);
    const peakRssMb = this.rss.stop();
    const sorted = this.latencies.slice(0, this.consumed).sort();
    const pick = (q: number): number =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const seconds = (this.endMs - this.startMs) / 1000;
    return {
      name,
      messages: this.messages,
      perSecond: Math.round(this.messages / seconds),
      latencyP50Ms: round(pick(0.5)),
      latencyP99Ms: round(pick(0.99)),
      cpuSecondsPer1k: round(((cpu.user + cpu.system) / 1e6 / this.messages) * 1000, 3),
      peakRssMb,
    };
  }
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Publishes `count` messages with at most `window` publish calls outstanding: enough to
 * keep the transport's confirm window full without building the whole backlog up front
 * (which would measure queueing in the benchmark, not the bus).
 */
export async function publishAll(
  count: number,
  window: number,
  publishOne: (index: number) => Promise<void>,
): Promise<void> {
  let outstanding = 0;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  for (let index = 0; index < count; index += 1) {
    if (failure !== undefined) throw failure;
    while (outstanding >= window) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    outstanding += 1;
    publishOne(index).then(
      () => {
        outstanding -= 1;
        wake?.();
      },
      (error: unknown) => {
        failure = error instanceof Error ? error : new Error('publish failed', { cause: error });
        outstanding -= 1;
        wake?.();
      },
    );
  }
  while (outstanding > 0) {
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  if (failure !== undefined) throw failure;
}
