import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateKernel, openStore } from '../src/index';
import { defineStoreContract, silentLogger } from './contract';

defineStoreContract('store contract: pglite', async () => {
  const store = await openStore({ dataDir: 'memory://', logger: silentLogger });
  return { store, cleanup: () => store.close() };
});

describe('pglite data folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relais-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the folder and keeps data across restarts', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const first = await openStore({ dataDir, logger: silentLogger });
    expect(first.driver).toBe('pglite');
    await migrateKernel(first);
    await first.query('CREATE TABLE kept (v text)');
    await first.query('INSERT INTO kept VALUES ($1)', ['still here']);
    await first.close();

    const second = await openStore({ dataDir, logger: silentLogger });
    try {
      expect((await second.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
      expect((await migrateKernel(second)).applied).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
