#!/usr/bin/env node
// `npm run bench -- <name> [args]` runs bench/<name>/index.ts with the workspace's tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(join(root, 'bench'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'bench', d.name, 'index.ts')))
  .map((d) => d.name);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ')}`);
  process.exit(2);
}
// The same V8 setting as the embedded platform (`npm start`): a larger young generation
// lets short-lived per-message objects die young instead of being copied to the old space.
const nodeFlags = ['--max-semi-space-size=32', '--import', 'tsx'];
const result = spawnSync(process.execPath, [...nodeFlags, join(root, 'bench', name, 'index.ts'), ...args], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
