import { createPublicKey, type KeyObject } from 'node:crypto';
import { dkimVerify } from 'mailauth/lib/dkim/verify';

/**
 * A DNS lookup with the shape of `dns.promises.resolve` (what mailauth accepts): TXT
 * answers are arrays of character-strings.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>;

/** A public key to publish at `<selector>._domainkey.<domain>`. */
export interface DkimPublicKey {
  domain: string;
  selector: string;
  /** A KeyObject, a PEM (SPKI) string, or the base64 `p=` value itself. */
  publicKey: KeyObject | string;
}

/** DKIM keys served from memory, so tests and the demo never touch real DNS. */
export interface DkimKeyStore {
  /** Pass as `dkimResolver`; unknown names fail with ENOTFOUND like DNS does. */
  readonly resolver: DnsResolver;
  /** Publishes (or replaces) a key. */
  add(key: DkimPublicKey): void;
  /** Names looked up so far, oldest first (handy in tests). */
  readonly queries: readonly string[];
}

/** The outcome of one DKIM-Signature header. */
export interface DkimCheck {
  /** `d=` of the signature (empty when the message had no signature). */
  domain: string;
  selector: string;
  /** `rsa-sha256`, `ed25519-sha256`, …; `none` for an unsigned message. */
  algorithm: string;
  /** mailauth's verdict: pass, fail, neutral, none, policy, temperror, permerror. */
  result: string;
  /** Why it did not pass, when mailauth says (e.g. "body hash did not verify"). */
  comment?: string;
}

/** The TXT record for a key: RSA as SPKI DER, Ed25519 as the raw 32 bytes (RFC 8463 §4.2). */
export function dkimTxtRecord(publicKey: KeyObject | string): string {
  if (typeof publicKey === 'string' && !publicKey.includes('-----BEGIN')) {
    return `v=DKIM1; p=${publicKey.replace(/\s+/g, '')}`;
  }
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const der = key.export({ format: 'der', type: 'spki' });
  if (key.asymmetricKeyType === 'ed25519') {
    return `v=DKIM1; k=ed25519; p=${der.subarray(der.length - 32).toString('base64')}`;
  }
  return `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
}

/** Creates an in-memory key store, optionally with keys already published. */
export function createDkimKeyStore(keys: readonly DkimPublicKey[] = []): DkimKeyStore {
  const records = new Map<string, string>();
  const queries: string[] = [];
  const add = (key: DkimPublicKey): void => {
    records.set(
      `${key.selector}._domainkey.${key.domain}`.toLowerCase(),
      dkimTxtRecord(key.publicKey),
    );
  };
  keys.forEach(add);
  const resolver: DnsResolver = async (name, rrtype) => {
    queries.push(name);
    const record = rrtype === 'TXT' ? records.get(name.toLowerCase()) : undefined;
    if (record === undefined) {
      throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    }
    // DNS splits TXT data into character-strings of at most 255 octets.
    return [record.match(/.{1,255}/g) ?? []];
  };
  return { resolver, add, queries };
}

/** Verifies every DKIM signature of a message; one check per signature. */
export async function verifyDkim(
  raw: Buffer,
  resolver: DnsResolver,
  sender?: string,
): Promise<DkimCheck[]> {
  const verdict = await dkimVerify(raw, {
    resolver,
    ...(sender === undefined || sender === '' ? {} : { sender }),
  });
  return verdict.results.map((result) => {
    // mailauth's typings name it `algorithm`; the runtime object carries `algo`.
    const { algo } = result as { algo?: string };
    const algorithm = result.algorithm ?? algo ?? 'unknown';
    const check: DkimCheck = {
      domain: result.signingDomain ?? '',
      selector: result.selector ?? '',
      algorithm: result.status.result === 'none' ? 'none' : algorithm,
      result: result.status.result,
    };
    if (result.status.comment !== undefined) check.comment = result.status.comment;
    return check;
  });
}
