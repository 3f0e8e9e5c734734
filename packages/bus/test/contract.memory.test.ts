import { createMemoryTransport } from '../src/index';
import { defineTransportContract } from './contract';

defineTransportContract('memory', async () => {
  const transport = createMemoryTransport();
  return {
    transport,
    killConnection: () => transport.debugKillConnection(),
    cleanup: () => transport.close(),
  };
});
