import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePostfixTools, waitUntilListening } from './postfix';

/** A Postfix instance of its own relaying to fixed next hops, for comparison runs. */
export interface PostfixRelay {
  port: number;
  /** The `postfix start-fg` process; Postfix's daemons are its descendants. */
  pid: number;
  close(): Promise<void>;
}

// The daemons a relay-only Postfix needs (no local delivery, no pickup of local mail).
const MASTER_CF = `postlog unix-dgram n - n - 1 postlogd
pickup fifo n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
`;

/**
 * Starts Postfix (installed by `ensurePostfixTools`) from a configuration directory of its
 * own: listening on 127.0.0.1:`port`, relaying for 127.0.0.0/8 only, each domain of
 * `routes` to its `[127.0.0.1]:port` (no DNS), no TLS, `concurrency` connections per
 * destination. Needs root, as Postfix does. With `milter` (e.g. OpenDKIM's
 * `inet:127.0.0.1:port`), every message passes through it before Postfix's 250, and a milter
 * that fails or does not answer makes Postfix answer 4xx rather than relay the message
 * unfiltered.
 */
export async function startPostfixRelay(options: {
  port: number;
  routes: Record<string, number>;
  concurrency: number;
  milter?: string;
}): Promise<PostfixRelay> {
  ensurePostfixTools();
  const dir = mkdtempSync(join(tmpdir(), 'relais-bench-postfix-'));
  // Postfix's daemons drop to mail_owner, which must reach the data directory inside.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'queue'));
  mkdirSync(join(dir, 'data'));
  const owner = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim();
  chownSync(join(dir, 'data'), Number(owner), 0);
  // `postfix -c` wants the directory listed in the default configuration. The Debian
  // package installed as "No configuration" has none; one an operator wrote is left alone.
  const defaults = '/etc/postfix/main.cf';
  const marker = '# written by relais bench/lib/postfix-relay.ts';
  if (!existsSync(defaults) || readFileSync(defaults, 'utf8').startsWith(marker)) {
    writeFileSync(defaults, `${marker}\nalternate_config_directories = ${tmpdir()}\n`);
  } else if (!readFileSync(defaults, 'utf8').includes(tmpdir())) {
    throw new Error(`add "alternate_config_directories = ${tmpdir()}" to ${defaults}`);
  }
  const transport = Object.entries(options.routes)
    .map(([domain, port]) => `${domain}=smtp:[127.0.0.1]:${port}`)
    .join(' ');
  writeFileSync(
    join(dir, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${join(dir, 'queue')}`,
      `data_directory = ${join(dir, 'data')}`,
      'command_directory = /usr/sbin',
      'daemon_directory = /usr/lib/postfix/sbin',
      'meta_directory = /etc/postfix',
      'shlib_directory = /usr/lib/postfix',
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = postfix.bench.test',
      'mydestination =',
      'mynetworks = 127.0.0.0/8',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'smtpd_relay_restrictions = permit_mynetworks, reject',
      `transport_maps = inline:{ ${transport} }`,
      'smtp_dns_support_level = disabled',
      'smtp_host_lookup = native',
      'smtp_tls_security_level = none',
      'smtpd_tls_security_level = none',
      'alias_maps =',
      'local_recipient_maps =',
      `default_destination_concurrency_limit = ${options.concurrency}`,
      ...(options.milter === undefined
        ? []
        : [
            `smtpd_milters = ${options.milter}`,
            `non_smtpd_milters = ${options.milter}`,
            'milter_default_action = tempfail',
          ]),
      // Not syslog (often absent in containers); a file of its own would need postlogd's
      // permissions set up, and nothing here reads it.
      'maillog_file = /dev/stdout',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'master.cf'),
    `127.0.0.1:${options.port} inet n - n - - smtpd\n${MASTER_CF}`,
  );
  spawnSync('postfix', ['-c', dir, 'check'], { stdio: 'ignore' });
  const child = spawn('postfix', ['-c', dir, 'start-fg'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await waitUntilListening(
    { host: '127.0.0.1', port: options.port },
    { what: `postfix on ${options.port} (postfix -c ${dir} start-fg)`, timeoutMs: 20_000 },
  );
  return {
    port: options.port,
    pid: child.pid!,
    close: async () => {
      spawnSync('postfix', ['-c', dir, 'stop'], { stdio: 'ignore' });
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
