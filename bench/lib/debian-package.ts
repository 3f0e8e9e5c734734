import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Installs a Debian package for a bench when the files it provides are missing, then stops
 * and disables the service its install may have started (the bench runs instances of its
 * own). Needs Linux, apt-get and root; says what to install by hand otherwise.
 */
export function ensureDebianPackage(options: {
  name: string;
  /** The files the bench needs from it; present means nothing to do. */
  provides: readonly string[];
  /** Run before the install, e.g. debconf pre-seeding. */
  beforeInstall?: () => void;
  /** The init script / unit to stop and disable after the install. */
  service: string;
}): void {
  const { name, provides } = options;
  if (provides.every((path) => existsSync(path))) return;
  const manual = `install the Debian/Ubuntu package "${name}" (it provides ${provides.join(', ')})`;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    throw new Error(`${provides.join(', ')} missing and apt-get is not available: ${manual}`);
  }
  if (process.getuid?.() !== 0) {
    throw new Error(`${provides.join(', ')} missing and installing needs root: ${manual}`);
  }
  options.beforeInstall?.();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): boolean =>
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', name], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    }).status === 0;
  // A fresh container often has no package lists yet: update once, only when needed.
  if (!install()) {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (!install()) throw new Error(`apt-get install ${name} failed: ${manual}`);
  }
  // Best effort: each of these fails harmlessly when the init system or the daemon is absent.
  const quiet = { stdio: 'ignore' } as const;
  if (existsSync('/run/systemd/system')) {
    spawnSync('systemctl', ['disable', '--now', options.service], quiet);
  } else {
    spawnSync('update-rc.d', [options.service, 'disable'], quiet);
    spawnSync(`/etc/init.d/${options.service}`, ['stop'], quiet);
  }
  const missing = provides.filter((path) => !existsSync(path));
  if (missing.length > 0) throw new Error(`${name} is installed but ${missing.join(', ')} missing`);
}
