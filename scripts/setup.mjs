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

// Debian packages the tests use, installed by `npm test` (which passes --tests) when they are
// missing and this machine can (root with apt-get); otherwise it says what to install. The
// tests themselves fail, not skip, without them under RELAIS_REQUIRE_INFRA=1.
// - python3-dkim, python3-nacl: Debian's dkimpy, the independent DKIM verifier (Ed25519 too).
// - chromium: the real browser the dashboard test drives with playwright-core (a browser
//   build downloaded by Playwright itself is not used). RELAIS_CHROMIUM names another one.
if (process.argv.includes('--tests')) {
  const python = process.env.RELAIS_PYTHON3 ?? '/usr/bin/python3';
  const hasDkim = () => {
    try {
      execFileSync(python, ['-c', 'import dkim, nacl'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const missing = [];
  if (!hasDkim()) missing.push('python3-dkim', 'python3-nacl');
  if (!existsSync(process.env.RELAIS_CHROMIUM ?? '/usr/bin/chromium')) missing.push('chromium');
  if (missing.length > 0) {
    const canApt = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
    if (canApt) {
      console.error(`relais: installing ${missing.join(', ')} (used by the tests)…`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
    } else {
      console.error(
        `relais: some tests need Debian packages ${missing.join(', ')} ` +
          `(sudo apt-get install ${missing.join(' ')}); those tests will fail without them.`,
      );
    }
  }
}
