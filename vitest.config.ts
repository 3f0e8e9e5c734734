import { defineConfig } from 'vitest/config';

// One run over every workspace package; each package may add its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['packages/*', 'services/*'],
    // Integration suites share one RabbitMQ and one PostgreSQL; files isolate themselves
    // (own vhost / schema / queue names) so they can still run in parallel.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
