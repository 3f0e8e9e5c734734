import { defineProject } from 'vitest/config';

// Each integration file owns its PostgreSQL schema, RabbitMQ vhost or in-memory PGlite, so
// files run in parallel with every other project.
export default defineProject({
  test: {
    name: 'analytics',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
