import { defineProject } from 'vitest/config';

// Each integration file owns its PostgreSQL schema, RabbitMQ vhost and in-memory PGlite, so
// files run in parallel with every other project.
export default defineProject({
  test: {
    name: 'bounce-processor',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
