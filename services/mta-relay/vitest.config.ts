import { defineProject } from 'vitest/config';

// Each file starts its own simulator on ephemeral loopback ports and its own bus, so files
// run in parallel with every other project.
export default defineProject({
  test: {
    name: 'mta-relay',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
