import { createTestSchema, probe } from '@relais/testing';
import { describe } from 'vitest';
import { openStore } from '../src/index';
import { defineStoreContract, silentLogger } from './contract';

const postgres = await probe('postgres');

describe.runIf(postgres.available)('store contract: pg', () => {
  defineStoreContract('pg driver', async () => {
    const schema = await createTestSchema('relais_store');
    const open = () => openStore({ databaseUrl: schema.url, logger: silentLogger, poolSize: 4 });
    const store = await open();
    return {
      store,
      openPeer: open,
      cleanup: async () => {
        await store.close();
        await schema.cleanup();
      },
    };
  });
});
