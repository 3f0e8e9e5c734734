import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';

/** A distributed sending identity for tests: env variables and the DKIM public keys. */
export interface TestIdentity {
  env: Record<string, string>;
  publicKeys: { domain: string; selector: string; publicKey: KeyObject }[];
}

/**
 * What a distributed dispatcher must be given: domains, token secrets and two DKIM key
 * files (written to a fresh temporary folder, as `relais dns --generate` would).
 */
export function testIdentity(domain = 'mail.relais.test'): TestIdentity {
  const dir = mkdtempSync(join(tmpdir(), 'relais-keys-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed = generateKeyPairSync('ed25519');
  const rsaFile = join(dir, 'rsa.pem');
  const edFile = join(dir, 'ed25519.pem');
  writeFileSync(rsaFile, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(edFile, ed.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return {
    env: {
      DISPATCHER__SENDING_DOMAIN: domain,
      DISPATCHER__BOUNCE_DOMAIN: `bounces.${domain}`,
      DISPATCHER__BOUNCE_SECRET: 'b'.repeat(40),
      DISPATCHER__UNSUBSCRIBE_BASE_URL: `https://links.${domain}`,
      DISPATCHER__UNSUBSCRIBE_SECRET: 'u'.repeat(40),
      DISPATCHER__DKIM__RSA__PRIVATE_KEY: rsaFile,
      DISPATCHER__DKIM__ED25519__PRIVATE_KEY: edFile,
    },
    publicKeys: [
      { domain, selector: 'rsa1', publicKey: rsa.publicKey },
      { domain, selector: 'ed1', publicKey: ed.publicKey },
    ],
  };
}
