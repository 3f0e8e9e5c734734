import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackage } from './debian-package';
import { closeServer, listenLocal, sinkSessions } from './mini-smtp';
import { waitUntilListening } from './postfix';

export const OPENDKIM = '/usr/sbin/opendkim';

/**
 * Makes OpenDKIM available, installing the Debian `opendkim` package when it is missing (as
 * `ensurePostfixTools` installs Postfix). The packaged service, if the install started it,
 * is stopped and disabled: the bench runs an instance of its own.
 */
export function ensureOpenDkim(): void {
  ensureDebianPackage({ name: 'opendkim', provides: [OPENDKIM], service: 'opendkim' });
}

/** One signing key of the running OpenDKIM, with the TXT record a verifier would look up. */
export interface DkimKey {
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  /** `<selector>._domainkey.<domain>` */
  name: string;
  /** `v=DKIM1; k=…; p=…` */
  txt: string;
}

/**
 * OpenDKIM milters of their own, one per key, together signing every message they are
 * handed once with each key.
 */
export interface OpenDkim {
  /** For Postfix's `smtpd_milters`: each instance's socket, in the order of `keys`. */
  milter: string;
  /** The `opendkim -f` processes, by key algorithm. */
  pids: Map<string, number>;
  domain: string;
  keys: DkimKey[];
  close(): Promise<void>;
}

/**
 * Starts two `opendkim -f` (installed by `ensureOpenDkim`), each on a UNIX socket: signing
 * only (mode `s`, nothing verified), relaxed/relaxed, every message of any From address for
 * `domain` (`d=`), the first with an RSA-2048 key (`a=rsa-sha256`), the second with an
 * Ed25519 key (`a=ed25519-sha256`), both generated here, as relais signs each message. Two instances because OpenDKIM 2.11 applies its one `SignatureAlgorithm` to
 * every signature it makes: one instance given both keys fails on the key that does not
 * match it. UNIX sockets, as Debian's packaged OpenDKIM uses, because over loopback TCP
 * the same two milters moved a third fewer messages here for more CPU. Keys, configuration
 * and sockets live in a temporary directory removed on close.
 */
export async function startOpenDkim(options: { domain: string }): Promise<OpenDkim> {
  ensureOpenDkim();
  const dir = mkdtempSync(join(tmpdir(), 'relais-bench-opendkim-'));
  // Postfix's smtpd (user postfix) must reach the sockets; the key files stay 0600.
  chmodSync(dir, 0o755);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed = generateKeyPairSync('ed25519');
  const rsaPublic = rsa.publicKey.export({ type: 'spki', format: 'der' });
  // An Ed25519 DKIM record carries the raw 32-byte key (RFC 8463), the DER's tail.
  const edPublic = ed.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const keys: (DkimKey & { privatePem: string })[] = [
    {
      selector: 'bench-rsa',
      algorithm: 'rsa-sha256',
      name: `bench-rsa._domainkey.${options.domain}`,
      txt: `v=DKIM1; k=rsa; p=${rsaPublic.toString('base64')}`,
      privatePem: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
    {
      selector: 'bench-ed25519',
      algorithm: 'ed25519-sha256',
      name: `bench-ed25519._domainkey.${options.domain}`,
      txt: `v=DKIM1; k=ed25519; p=${edPublic.toString('base64')}`,
      privatePem: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
  ];
  const instances: { stop(): Promise<void>; pid: number }[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(instances.splice(0).map((instance) => instance.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const key of keys) {
      instances.push(await startInstance(dir, key, options.domain));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    milter: keys.map((key) => `unix:${socketPath(dir, key)}`).join(', '),
    pids: new Map(keys.map((key, index) => [`opendkim ${key.algorithm}`, instances[index]!.pid])),
    domain: options.domain,
    keys: keys.map(({ privatePem: _, ...key }) => key),
    close,
  };
}

const socketPath = (dir: string, key: DkimKey): string => join(dir, `${key.selector}.sock`);

async function startInstance(
  dir: string,
  key: DkimKey & { privatePem: string },
  domain: string,
): Promise<{ stop(): Promise<void>; pid: number }> {
  const socket = socketPath(dir, key);
  const file = (name: string, text: string): string => {
    const path = join(dir, `${key.selector}.${name}`);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const keyTable = file(
    'KeyTable',
    `key ${domain}:${key.selector}:${file('key', key.privatePem)}\n`,
  );
  // Every From address: smtp-source's (the -f address) is not the d= domain.
  const signingTable = file('SigningTable', '* key\n');
  const conf = file(
    'conf',
    [
      `Socket local:${socket}`,
      // The socket writable by Postfix's user.
      'UMask 000',
      'Mode s',
      'Canonicalization relaxed/relaxed',
      `SignatureAlgorithm ${key.algorithm}`,
      `KeyTable file:${keyTable}`,
      `SigningTable refile:${signingTable}`,
      // Postfix hands over mail from 127.0.0.1, which InternalHosts lists by default.
      'InternalHosts 127.0.0.1',
      // The temporary directory sits under world-writable /tmp, which OpenDKIM's safe-key
      // check rejects; the key files themselves are 0600.
      'RequireSafeKeys no',
      'Syslog no',
      '',
    ].join('\n'),
  );
  let stderr = '';
  let exit: string | undefined;
  const child = spawn(OPENDKIM, ['-f', '-x', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exit = `opendkim exited (code ${code}, signal ${signal}): ${stderr.trim()}`;
      resolve();
    }),
  );
  child.on('error', (error) => {
    exit = `opendkim failed to start: ${error.message}`;
  });
  const stop = async (): Promise<void> => {
    if (exit === undefined) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitUntilListening(
      { path: socket },
      {
        what: `opendkim on ${socket} (opendkim -f -x ${conf})`,
        timeoutMs: 20_000,
        failure: () => exit,
      },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop, pid: child.pid! };
}

/** An SMTP server that keeps the first message it receives (the signing proof's sink). */
export async function startCaptureSink(): Promise<{
  port: number;
  message: Promise<string>;
  close(): Promise<void>;
}> {
  let deliver: (message: string) => void = () => undefined;
  const message = new Promise<string>((resolve) => {
    deliver = resolve;
  });
  const sessions = sinkSessions({
    name: 'capture',
    keepData: true,
    onMessage: ({ data }) => deliver(data ?? ''),
  });
  const { server, port } = await listenLocal(sessions.onSession);
  return {
    port,
    message,
    close: () => {
      sessions.destroyAll();
      return closeServer(server);
    },
  };
}

// dkimpy verifies each signature against the TXT records given, without DNS.
const VERIFY_PY = `
import json, sys
try:
    import dkim
except ImportError:
    sys.exit(3)
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    return records.get(name.rstrip('.'), '').encode()
message = sys.stdin.buffer.read()
d = dkim.DKIM(message)
count = len([h for h in d.headers if h[0].lower() == b'dkim-signature'])
print(json.dumps([bool(d.verify(idx=i, dnsfunc=dnsfunc)) for i in range(count)]))
`;

/**
 * Checks that `message` (as delivered) carries one DKIM-Signature per key of `dkim`, with
 * that key's algorithm; throws otherwise. Then verifies every signature with python3's
 * `dkim` module (dkimpy) when it is installed, against the keys' TXT records, and says so.
 */
export function proveSigned(message: string, dkim: OpenDkim): string {
  const head = message.slice(0, message.indexOf('\r\n\r\n'));
  const signatures = head
    .split(/\r\n(?![ \t])/)
    .filter((line) => /^dkim-signature:/i.test(line))
    .map((line) => line.replace(/\s+/g, ''));
  for (const key of dkim.keys) {
    const found = signatures.filter(
      (tags) => tags.includes(`a=${key.algorithm};`) && tags.includes(`s=${key.selector};`),
    );
    if (found.length !== 1) {
      throw new Error(
        `postfix-dkim: the delivered message has ${found.length} DKIM-Signature with ` +
          `a=${key.algorithm} (s=${key.selector}), not 1; its header:\n${head}`,
      );
    }
  }
  const records = Object.fromEntries(dkim.keys.map((key) => [key.name, key.txt]));
  for (const python of ['/usr/bin/python3', 'python3']) {
    const run = spawnSync(python, ['-c', VERIFY_PY, JSON.stringify(records)], {
      input: message,
      encoding: 'utf8',
    });
    // Not found, or found without dkimpy: try the next, then say it was not verified.
    if (run.status === null || run.status === 3 || run.status === 127) continue;
    if (run.status !== 0) {
      throw new Error(`postfix-dkim: dkimpy failed to verify: ${run.stderr.trim()}`);
    }
    const results = JSON.parse(run.stdout) as boolean[];
    if (results.length !== signatures.length || results.some((ok) => !ok)) {
      throw new Error(`postfix-dkim: dkimpy rejects the signatures (${run.stdout.trim()})`);
    }
    return `${signatures.length} signatures (${dkim.keys.map((k) => k.algorithm).join(', ')}), verified by dkimpy`;
  }
  return (
    `${signatures.length} signatures (${dkim.keys.map((k) => k.algorithm).join(', ')}); ` +
    'not verified: no python3 with the dkim module'
  );
}
