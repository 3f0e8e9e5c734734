import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// One run over every workspace package and service that has tests; each keeps its own
// vitest.config.ts, so `npx vitest run` inside a package runs just that package.
const projects = ['packages', 'services']
  .filter((dir) => existsSync(dir))
  .flatMap((dir) => readdirSync(dir).map((name) => join(dir, name)))
  .filter((dir) => existsSync(join(dir, 'vitest.config.ts')));

export default defineConfig({
  test: { projects },
});
