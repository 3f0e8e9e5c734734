import { defineProject } from 'vitest/config';

// Every test opens real SMTP listeners on 127.0.0.1 with ephemeral ports, so files run in
// parallel without clashing.
export default defineProject({
  test: {
    name: 'simulator',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
