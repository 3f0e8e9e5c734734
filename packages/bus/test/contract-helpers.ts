import { randomUUID } from 'node:crypto';
import { createEnvelope, type Envelope } from '@relais/domain';
import type { Registry } from '@relais/telemetry';
import type { Delivery, MessageBus, Transport } from '../src/index';

/** Helpers of the bus contract suite; upper bounds are generous for a real broker's latency. */

const WAIT_MS = 10_000;

/** A promise the test resolves by hand, to hold a handler mid-message. */
export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `condition` holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A valid `delivery.delivered` envelope with fresh ids. */
export function deliveredEvent(): Envelope<'delivery.delivered'> {
  return createEnvelope({
    type: 'delivery.delivered',
    tenantId: randomUUID(),
    data: { messageId: randomUUID(), recipientDomain: 'example.org', pool: 'shared', attempt: 1 },
  });
}

/** What an adapter's test file provides for each case: a fresh transport of its own. */
export interface ContractHarness {
  transport: Transport;
  /** Drops the transport's connection the way a broker restart or network cut would. */
  killConnection(): Promise<void>;
  /** Releases everything the harness created (vhost, broker); runs after the transport closed. */
  cleanup(): Promise<void>;
}

/** Tiny delay tiers so retries are observable within a test, yet measurably delayed. */
export const RETRY_TIERS_MS = [150, 300];
export const MAX_ATTEMPTS = 3;
export const DELIVERY_LIMIT = 3;

/** One contract case's world: its harness, a bus on a namespace of its own, a work queue. */
export interface Case {
  harness: ContractHarness;
  transport: Transport;
  bus: MessageBus;
  registry: Registry;
  ns: string;
  workQueue: string;
  /** Dead-lettered deliveries, once `readDeadLetters()` ran. */
  deadLetters: Delivery[];
  readDeadLetters(): Promise<void>;
  /** Run before closing: releases handlers a case left blocked, so close does not wait forever. */
  onDispose: (() => void)[];
}

/** Creates the world of one case; the suite disposes of it after the case. */
export type CaseSetup = () => Promise<Case>;
