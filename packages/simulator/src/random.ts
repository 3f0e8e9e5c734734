import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

/** A uniform source in [0, 1), like `Math.random`; injected so tests replay exactly. */
export type Random = () => number;

/** Time as the simulator sees it; injected so greylisting and rate limits run on a fake clock. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => (ms > 0 ? delay(ms) : Promise.resolve()),
};

/** A small seedable generator (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A stable number in [0, 1) for (seed, trait, address): an address drawn "unknown" stays
 * unknown on every retry and in every run with the same seed, so a demo's totals add up.
 * The trait keeps draws independent (an unknown user is not also more likely to be full).
 */
export function addressScore(seed: number, trait: string, address: string): number {
  const digest = createHash('sha256')
    .update(`${seed}\0${trait}\0${address.toLowerCase()}`)
    .digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** Derives an independent seed per provider and purpose from the simulator seed. */
export function deriveSeed(seed: number, label: string): number {
  return createHash('sha256').update(`${seed}\0${label}`).digest().readUInt32BE(0);
}
