import { openStore } from '../src/index';
import { defineStoreContract, silentLogger } from './contract';

defineStoreContract('store contract: pglite', async () => {
  const store = await openStore({ dataDir: 'memory://', logger: silentLogger });
  return { store, cleanup: () => store.close() };
});
