#!/usr/bin/env node
// Installs the workspace's dependencies when they are missing or stale, so that a fresh
// clone needs nothing but Node 20 and npm: `npm start` and `npm test` both call this first.
// pnpm comes through npx at the version pinned in package.json (`packageManager`).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`relais needs Node.js 20 or newer; this is ${process.version}.`);
  process.exit(1);
}

const lockfile = join(root, 'pnpm-lock.yaml');
// pnpm keeps a copy of the lockfile it installed from; equal content means up to date.
const installed = join(root, 'node_modules', '.pnpm', 'lock.yaml');
const upToDate =
  existsSync(installed) && readFileSync(installed, 'utf8') === readFileSync(lockfile, 'utf8');

if (!upToDate) {
  const pm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
  console.error(`relais: installing dependencies with ${pm} (first run or lockfile changed)…`);
  execFileSync('npx', ['--yes', pm, 'install', '--frozen-lockfile'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}
