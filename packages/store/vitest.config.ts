import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Bulk and concurrency cases move 100k rows or wait on two relays; each stays < 30 s.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
