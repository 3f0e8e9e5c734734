import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RelaisError } from '@relais/domain';
import { createDkimSigner, type DkimAlgorithm, type DkimSigner } from '@relais/mail';

/** A DKIM key as configured: selector and PEM text or path; absent key means generate one. */
export interface DkimKeySetting {
  selector: string;
  privateKey?: string | undefined;
}

/** A public key to publish at `<selector>._domainkey.<domain>` (the simulator's DkimPublicKey). */
export interface DkimPublicKey {
  domain: string;
  selector: string;
  publicKey: KeyObject;
}

/** The two signers of every message, and the public keys a resolver must serve for them. */
export interface DkimKeySet {
  signers: DkimSigner[];
  publicKeys: DkimPublicKey[];
  /** True when at least one key was generated in memory (embedded mode, tests). */
  generated: boolean;
}

const ALGORITHMS: ReadonlyArray<{ name: 'rsa' | 'ed25519'; algorithm: DkimAlgorithm }> = [
  { name: 'rsa', algorithm: 'rsa-sha256' },
  { name: 'ed25519', algorithm: 'ed25519-sha256' },
];

/**
 * Parses (or generates) the RSA-2048 and Ed25519 keys once, at start. A value holding
 * `-----BEGIN` is PEM text; anything else is a file path read now, so a missing file fails
 * the start instead of the first batch.
 */
export function loadDkimKeys(
  domain: string,
  keys: { rsa: DkimKeySetting; ed25519: DkimKeySetting },
): DkimKeySet {
  let generated = false;
  const signers = ALGORITHMS.map(({ name, algorithm }) => {
    const setting = keys[name];
    let pem: string;
    if (setting.privateKey === undefined) {
      generated = true;
      pem = generatePem(name);
    } else {
      pem = setting.privateKey.includes('-----BEGIN')
        ? setting.privateKey
        : readKeyFile(setting.privateKey, name);
    }
    return createDkimSigner({ domain, selector: setting.selector, privateKeyPem: pem, algorithm });
  });
  return {
    signers,
    publicKeys: signers.map((signer) => ({
      domain: signer.domain,
      selector: signer.selector,
      publicKey: signer.publicKey,
    })),
    generated,
  };
}

/** A fresh key set held in memory only: tests and the embedded demo, whose DNS is a fake zone. */
export function generateDkimKeys(
  domain: string,
  selectors: { rsa?: string; ed25519?: string } = {},
): DkimKeySet {
  return loadDkimKeys(domain, {
    rsa: { selector: selectors.rsa ?? 'rsa1' },
    ed25519: { selector: selectors.ed25519 ?? 'ed1' },
  });
}

function generatePem(name: 'rsa' | 'ed25519'): string {
  const pair =
    name === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ed25519');
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function readKeyFile(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    // The path is configuration, not a secret; the key text never reaches this message.
    throw new RelaisError('CONFIG_INVALID', `cannot read the DKIM ${name} key file`, {
      cause: error,
      details: { path },
    });
  }
}
