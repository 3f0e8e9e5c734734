import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../src/index';
import { defineBulkCases } from './contract-bulk';
import { defineCoreCases } from './contract-core';
import type { ContractContext, StoreFixture } from './contract-helpers';
import { defineOutboxCases } from './contract-outbox';

export { silentLogger, type StoreFixture } from './contract-helpers';

/**
 * Every Store driver must pass these, against a real database. `factory` gives each case
 * a fresh, empty database (a schema of its own on pg, a new instance on PGlite).
 */
export function defineStoreContract(name: string, factory: () => Promise<StoreFixture>): void {
  describe(name, () => {
    const peers: Store[] = [];
    const ctx: ContractContext = {
      // Assigned before every case, read only inside cases.
      fx: undefined as unknown as StoreFixture,
      relays: [],
      async peer() {
        if (!ctx.fx.openPeer) return ctx.fx.store;
        const opened = await ctx.fx.openPeer();
        peers.push(opened);
        return opened;
      },
    };

    beforeEach(async () => {
      ctx.fx = await factory();
    });

    afterEach(async () => {
      await Promise.all(ctx.relays.splice(0).map((relay) => relay.stop()));
      await Promise.all(peers.splice(0).map((p) => p.close()));
      await ctx.fx.cleanup();
    });

    defineCoreCases(ctx);
    defineOutboxCases(ctx);
    defineBulkCases(ctx);
  });
}
