import { randomUUID } from 'node:crypto';
import { createEnvelope, RelaisError, type Envelope } from '@relais/domain';
import { createLogger } from '@relais/telemetry';
import { expect } from 'vitest';
import type { OutboxRelay, Store } from '../src/index';

/** What each contract case gets: a fresh, empty database of its own. */
export interface StoreFixture {
  store: Store;
  /**
   * Another Store on the same database with its own connections (pg), to prove what
   * separate replicas do. Absent for PGlite, whose one instance is the only way in.
   */
  openPeer?: () => Promise<Store>;
  cleanup(): Promise<void>;
}

export const silentLogger = createLogger({ service: 'store-test', level: 'silent' });

export function outboxEnvelope(): Envelope {
  return createEnvelope({
    type: 'campaign.resumed',
    tenantId: randomUUID(),
    data: { campaignId: randomUUID() },
  });
}

export async function expectRelaisError(promise: Promise<unknown>): Promise<RelaisError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RelaisError);
    return error as RelaisError;
  }
  throw new Error('expected a RelaisError, got success');
}

export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The current case's fixture, shared by the case files of one contract run. */
export interface ContractContext {
  fx: StoreFixture;
  /** Relays started by a case; stopped after it. */
  relays: OutboxRelay[];
  /** Another store on the same database (pg), or the same store (PGlite). */
  peer(): Promise<Store>;
}
