import { defineProject } from 'vitest/config';

// Integration suites share one RabbitMQ and one PostgreSQL; each file isolates itself
// (own vhost / schema / namespace), so files still run in parallel.
export default defineProject({
  test: {
    name: 'campaign',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
