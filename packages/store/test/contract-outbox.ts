import { randomUUID } from 'node:crypto';
import { RelaisError, type Envelope } from '@relais/domain';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  claimInbox,
  createStoreDedupe,
  enqueueOutbox,
  migrateKernel,
  startOutboxRelay,
  type Store,
} from '../src/index';
import {
  outboxEnvelope,
  silentLogger,
  waitFor,
  type ContractContext,
  type StoreFixture,
} from './contract-helpers';

/** Transactional outbox, relays and inbox dedupe. */
export function defineOutboxCases(ctx: ContractContext): void {
  let store: Store;
  let fx: StoreFixture;
  beforeEach(() => {
    fx = ctx.fx;
    store = fx.store;
  });
  const peer = () => ctx.peer();
  const { relays } = ctx;

  describe('outbox', () => {
    beforeEach(async () => {
      await migrateKernel(store);
    });

    async function enqueue(count: number, perTransaction: number): Promise<Set<string>> {
      const ids = new Set<string>();
      for (let done = 0; done < count; done += perTransaction) {
        await store.transaction(async (tx) => {
          for (let i = done; i < Math.min(count, done + perTransaction); i++) {
            const envelope = outboxEnvelope();
            ids.add(envelope.id);
            await enqueueOutbox(tx, envelope);
          }
        });
      }
      return ids;
    }

    async function unpublished(): Promise<number> {
      const { rows } = await store.query<{ n: string }>(
        'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
      );
      return Number(rows[0]?.n);
    }

    it('commits the event with the state change, or neither', async () => {
      await store.query('CREATE TABLE things (id int PRIMARY KEY)');
      await expect(
        store.transaction(async (tx) => {
          await tx.query('INSERT INTO things VALUES (1)');
          await enqueueOutbox(tx, outboxEnvelope());
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect((await store.query('SELECT * FROM outbox')).rows).toEqual([]);
      const envelope = outboxEnvelope();
      await store.transaction(async (tx) => {
        await tx.query('INSERT INTO things VALUES (1)');
        await enqueueOutbox(tx, envelope, { routingKey: 'pool-a' });
      });
      const { rows } = await store.query('SELECT id, routing_key, envelope FROM outbox');
      expect(rows).toEqual([{ id: envelope.id, routing_key: 'pool-a', envelope }]);
    });

    it('relays every row exactly once under two concurrent relays', async () => {
      const ids = await enqueue(2000, 200);
      const published: string[] = [];
      const perRelay = [0, 0];
      // With separate connections, hold each relay's first batch until both are inside
      // publish: the second must have skipped the first's locked rows, not waited on them.
      let inside = 0;
      let bothInside: () => void = () => {};
      const barrier = new Promise<void>((resolve) => {
        bothInside = resolve;
      });
      const recorder = (relay: 0 | 1) => async (envelopes: Envelope[]) => {
        if (fx.openPeer && perRelay[relay] === 0) {
          if (++inside === 2) bothInside();
          await Promise.race([barrier, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
        perRelay[relay] = (perRelay[relay] ?? 0) + envelopes.length;
        published.push(...envelopes.map((e) => e.id));
      };
      const second = await peer();
      relays.push(
        startOutboxRelay({
          store,
          publish: recorder(0),
          logger: silentLogger,
          batchSize: 50,
          pollIntervalMs: 20,
        }),
        startOutboxRelay({
          store: second,
          publish: recorder(1),
          logger: silentLogger,
          batchSize: 50,
          pollIntervalMs: 20,
        }),
      );
      await waitFor(
        async () => published.length >= ids.size && (await unpublished()) === 0,
        25_000,
      );
      await Promise.all(relays.splice(0).map((relay) => relay.stop()));
      expect(published).toHaveLength(ids.size);
      expect(new Set(published)).toEqual(ids);
      expect(await unpublished()).toBe(0);
      if (fx.openPeer) expect(perRelay.every((n) => n > 0)).toBe(true);
    });

    it('passes routing keys along with their envelopes', async () => {
      const a = outboxEnvelope();
      const b = outboxEnvelope();
      await store.transaction(async (tx) => {
        await enqueueOutbox(tx, a, { routingKey: 'pool-a' });
        await enqueueOutbox(tx, b);
      });
      const seen: Array<[string, string | undefined]> = [];
      const relay = startOutboxRelay({
        store,
        logger: silentLogger,
        pollIntervalMs: 60_000,
        publish: async (envelopes, keys) => {
          envelopes.forEach((e, i) => seen.push([e.id, keys[i]]));
        },
      });
      relays.push(relay);
      await waitFor(async () => seen.length === 2, 5_000);
      expect(seen).toEqual([
        [a.id, 'pool-a'],
        [b.id, undefined],
      ]);
    });

    it('keeps rows whose publish failed and relays them later', async () => {
      const ids = await enqueue(120, 120);
      let calls = 0;
      const published: string[] = [];
      relays.push(
        startOutboxRelay({
          store,
          logger: silentLogger,
          batchSize: 50,
          pollIntervalMs: 20,
          retryDelay: { initialMs: 10, maxMs: 50 },
          publish: async (envelopes) => {
            calls += 1;
            if (calls === 1) throw new RelaisError('BUS_PUBLISH_FAILED', 'broker said no');
            published.push(...envelopes.map((e) => e.id));
          },
        }),
      );
      await waitFor(async () => (await unpublished()) === 0, 10_000);
      expect(calls).toBeGreaterThan(1);
      expect(new Set(published)).toEqual(ids);
    });

    it('sets aside a row whose envelope no longer validates, and relays the rows behind it', async () => {
      const good = outboxEnvelope();
      const poison = outboxEnvelope();
      // Written around enqueueOutbox, as an older build or a hand edit would leave it.
      await store.query(
        'INSERT INTO outbox (id, type, tenant_id, envelope) VALUES ($1, $2, $3, $4::jsonb)',
        [
          poison.id,
          poison.type,
          poison.tenantId,
          JSON.stringify({ ...poison, data: { campaignId: 'nope' } }),
        ],
      );
      await store.transaction((tx) => enqueueOutbox(tx, good));
      const published: string[] = [];
      relays.push(
        startOutboxRelay({
          store,
          logger: silentLogger,
          pollIntervalMs: 20,
          publish: async (envelopes) => {
            published.push(...envelopes.map((e) => e.id));
          },
        }),
      );
      await waitFor(async () => published.length === 1, 5_000);
      expect(published).toEqual([good.id]);
      const { rows } = await store.query<{
        failure_reason: string | null;
        published_at: Date | null;
      }>('SELECT failure_reason, published_at FROM outbox WHERE id = $1', [poison.id]);
      expect(rows[0]?.published_at).toBeNull();
      expect(rows[0]?.failure_reason).toContain('campaignId');
    });

    it('refuses to enqueue an envelope that does not validate', async () => {
      const bad = { ...outboxEnvelope(), type: 'campaign.exploded' } as unknown as Envelope;
      const error = await store
        .transaction((tx) => enqueueOutbox(tx, bad))
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(error).toBeInstanceOf(RelaisError);
      expect((error as RelaisError).code).toBe('MESSAGE_UNKNOWN_TYPE');
      expect((await store.query('SELECT id FROM outbox')).rows).toEqual([]);
    });

    it('wakes on commit without waiting for the poll interval', async () => {
      const published: string[] = [];
      relays.push(
        startOutboxRelay({
          store,
          logger: silentLogger,
          pollIntervalMs: 60_000,
          publish: async (envelopes) => {
            published.push(...envelopes.map((e) => e.id));
          },
        }),
      );
      // Let the relay finish its first (empty) scan and go to sleep.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ids = await enqueue(3, 3);
      await waitFor(async () => published.length === 3, 5_000);
      expect(new Set(published)).toEqual(ids);
    });

    it('drains on demand and stops after the batch in progress', async () => {
      await enqueue(10, 10);
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = false;
      const relay = startOutboxRelay({
        store,
        logger: silentLogger,
        pollIntervalMs: 60_000,
        publish: async () => {
          started = true;
          await gate;
        },
      });
      await waitFor(async () => started, 5_000);
      const stopped = relay.stop();
      release();
      await stopped;
      expect(await unpublished()).toBe(0);
      await enqueue(5, 5);
      expect(await relay.drainOnce()).toBe(5);
      expect(await relay.drainOnce()).toBe(0);
    });
  });

  describe('inbox dedupe', () => {
    beforeEach(async () => {
      await migrateKernel(store);
    });

    it('remembers what a consumer handled', async () => {
      const dedupe = createStoreDedupe(store);
      const id = randomUUID();
      expect(await dedupe.has('analytics', id)).toBe(false);
      await dedupe.add('analytics', id);
      await dedupe.add('analytics', id);
      expect(await dedupe.has('analytics', id)).toBe(true);
      expect(await dedupe.has('campaign', id)).toBe(false);
    });

    it('answers calls made together with one statement each, every caller its own answer', async () => {
      const dedupe = createStoreDedupe(store);
      const ids = Array.from({ length: 40 }, () => randomUUID());
      await Promise.all(ids.slice(0, 20).map((id) => dedupe.add('relay', id)));
      const statements: string[] = [];
      const counting = createStoreDedupe({
        query: (sql: string, params?: unknown[]) => {
          statements.push(sql);
          return store.query(sql, params);
        },
      } as typeof store);
      const answers = await Promise.all(
        ids.map((id, i) => counting.has('relay', i % 2 === 0 ? id.toUpperCase() : id)),
      );
      expect(answers).toEqual(ids.map((_, i) => i < 20));
      expect(statements).toHaveLength(1);
      await Promise.all(ids.map((id) => counting.add('relay', id)));
      expect(statements).toHaveLength(2);
      expect(await Promise.all(ids.map((id) => dedupe.has('relay', id)))).toEqual(
        ids.map(() => true),
      );
      expect(await dedupe.has('analytics', ids[0]!)).toBe(false);
    });

    it('rejects every caller of a statement that fails, and recovers on the next', async () => {
      let fail = true;
      const flaky = createStoreDedupe({
        query: (sql: string, params?: unknown[]) =>
          fail ? Promise.reject(new Error('connection lost')) : store.query(sql, params),
      } as typeof store);
      const ids = [randomUUID(), randomUUID()];
      const results = await Promise.allSettled(ids.map((id) => flaky.has('relay', id)));
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      fail = false;
      expect(await Promise.all(ids.map((id) => flaky.has('relay', id)))).toEqual([false, false]);
    });

    it('claims an envelope once inside the handler transaction', async () => {
      const id = randomUUID();
      expect(await store.transaction((tx) => claimInbox(tx, 'dispatcher', id))).toBe(true);
      expect(await store.transaction((tx) => claimInbox(tx, 'dispatcher', id))).toBe(false);
      await expect(
        store.transaction(async (tx) => {
          await claimInbox(tx, 'relay', id);
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect(await createStoreDedupe(store).has('relay', id)).toBe(false);
    });
  });
}
