import type { KeyObject } from 'node:crypto';
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { RelaisError } from '@relais/domain';
import type { HeaderField } from './canonicalize';
import { relaxedBody, relaxedHeader, splitMessage } from './canonicalize';

/** The two DKIM algorithms relais signs with; rsa-sha1 is obsolete (RFC 8301). */
export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

/** How to sign for one domain and selector. */
export interface DkimSignerOptions {
  /** `d=`: the domain that takes responsibility; aligned with From for DMARC. */
  domain: string;
  /** `s=`: the key's name under `<selector>._domainkey.<domain>`. */
  selector: string;
  /** PKCS#8 or PKCS#1 PEM; parsed once here. */
  privateKeyPem: string;
  algorithm: DkimAlgorithm;
  /** Fields to sign, replacing DEFAULT_SIGNED_HEADERS. */
  headers?: readonly string[] | undefined;
}

/** A parsed, reusable signing key: build one per key at start, sign many messages with it. */
export interface DkimSigner {
  readonly domain: string;
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  /** Derived from the private key, for the DNS record (dnsRecords). */
  readonly publicKey: KeyObject;
  readonly headers: readonly string[];
  readonly privateKey: KeyObject;
}

/** Options of one signMessage call. */
export interface SignOptions {
  /** `t=`; the caller's clock, so tests can fix it. */
  now?: Date | undefined;
}

/**
 * Signed when present. Every one of them is also over-signed (listed once more than it
 * occurs, RFC 6376 §5.4.2 and §8.15): a verifier then fails a copy that gained a second
 * From, Subject or List-Unsubscribe on the way, instead of showing the added one.
 */
export const DEFAULT_SIGNED_HEADERS: readonly string[] = [
  'from',
  'to',
  'cc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'list-id',
  'feedback-id',
  'in-reply-to',
  'references',
];

// Listed even when the message lacks them, which signs their absence: a Cc, Reply-To or
// List-Unsubscribe added in transit then breaks the signature.
const SIGN_ABSENCE = new Set([
  'from',
  'to',
  'cc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'list-unsubscribe',
  'list-unsubscribe-post',
]);
const MIN_RSA_BITS = 2048;
const SELECTOR =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const FOLD_AT = 76;

/**
 * Parses the key once into a KeyObject (re-parsing PEM per message cost two thirds of the
 * signing time in mailauth's dkimSign) and checks it suits the algorithm.
 */
export function createDkimSigner(options: DkimSignerOptions): DkimSigner {
  if (!SELECTOR.test(options.selector) || !SELECTOR.test(options.domain)) {
    throw new RelaisError('CONFIG_INVALID', 'DKIM selector and domain must be DNS names');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(options.privateKeyPem);
  } catch (error) {
    throw new RelaisError('CONFIG_INVALID', 'DKIM private key is not a readable PEM key', {
      cause: error,
      details: { selector: options.selector, domain: options.domain },
    });
  }
  const expected = options.algorithm === 'rsa-sha256' ? 'rsa' : 'ed25519';
  if (privateKey.asymmetricKeyType !== expected) {
    throw new RelaisError('CONFIG_INVALID', `DKIM ${options.algorithm} needs an ${expected} key`, {
      details: { selector: options.selector, keyType: privateKey.asymmetricKeyType ?? null },
    });
  }
  const bits = privateKey.asymmetricKeyDetails?.modulusLength;
  if (expected === 'rsa' && (bits === undefined || bits < MIN_RSA_BITS)) {
    throw new RelaisError('CONFIG_INVALID', `DKIM RSA keys need at least ${MIN_RSA_BITS} bits`, {
      details: { selector: options.selector, bits: bits ?? null },
    });
  }
  return {
    domain: options.domain.toLowerCase(),
    selector: options.selector.toLowerCase(),
    algorithm: options.algorithm,
    publicKey: createPublicKey(privateKey),
    headers: (options.headers ?? DEFAULT_SIGNED_HEADERS).map((name) => name.toLowerCase()),
    privateKey,
  };
}

/**
 * Prepends one DKIM-Signature per signer (relaxed/relaxed, `t=` set, never `l=`: a body
 * length limit lets anyone append content under a valid signature). The body is
 * canonicalized and hashed once for all signers.
 */
export function signMessage(
  raw: Buffer,
  signers: readonly DkimSigner[],
  options: SignOptions = {},
): Buffer {
  if (signers.length === 0) return raw;
  const inputs = signingInputs(raw, signers, options);
  const signatures = inputs.map(({ signer, unsigned, data }) =>
    signatureText(
      unsigned,
      signatureAlgorithm(signer, data, (algorithm, input, key) => sign(algorithm, input, key)),
    ),
  );
  return Buffer.concat([Buffer.from(signatures.join(''), 'latin1'), raw]);
}

/**
 * signMessage with the private-key operations on libuv's thread pool. An RSA-2048
 * signature is 0.3–0.9 ms of CPU; on the event loop it held up every other connection
 * of a submission listener for that long, while the pool's threads can use another core.
 */
export async function signMessageAsync(
  raw: Buffer,
  signers: readonly DkimSigner[],
  options: SignOptions = {},
): Promise<Buffer> {
  if (signers.length === 0) return raw;
  const inputs = signingInputs(raw, signers, options);
  const signatures = await Promise.all(
    inputs.map(async ({ signer, unsigned, data }) => {
      const signature = await signatureAlgorithm(
        signer,
        data,
        (algorithm, input, key) =>
          new Promise<Buffer>((resolve, reject) => {
            sign(algorithm, input, key, (error, result) =>
              error === null ? resolve(result) : reject(error),
            );
          }),
      );
      return signatureText(unsigned, signature);
    }),
  );
  return Buffer.concat([Buffer.from(signatures.join(''), 'latin1'), raw]);
}

interface SigningInput {
  signer: DkimSigner;
  /** The DKIM-Signature field up to its empty `b=`. */
  unsigned: string;
  /** What the private key signs. */
  data: Buffer;
}

function signingInputs(
  raw: Buffer,
  signers: readonly DkimSigner[],
  options: SignOptions,
): SigningInput[] {
  const { fields, body } = splitMessage(raw);
  const bodyHash = createHash('sha256').update(relaxedBody(body)).digest('base64');
  const timestamp = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return signers.map((signer) => {
    const { names, canonical } = selectHeaders(signer.headers, fields);
    const unsigned = foldTags([
      'v=1',
      `a=${signer.algorithm}`,
      'c=relaxed/relaxed',
      `d=${signer.domain}`,
      `s=${signer.selector}`,
      `t=${timestamp}`,
      `h=${names.join(':')}`,
      `bh=${bodyHash}`,
      'b=',
    ]);
    // RFC 6376 §3.7: the signature covers the signed fields, then this field with `b=` empty
    // and no trailing CRLF.
    return { signer, unsigned, data: Buffer.from(canonical + relaxedHeader(unsigned), 'latin1') };
  });
}

/** Calls `run` with the digest and input each algorithm signs. */
function signatureAlgorithm<T>(
  signer: DkimSigner,
  data: Buffer,
  run: (algorithm: string | null, input: Buffer, key: KeyObject) => T,
): T {
  return signer.algorithm === 'rsa-sha256'
    ? run('sha256', data, signer.privateKey)
    : // RFC 8463 §3: PureEdDSA over the SHA-256 hash of the data, not over the data.
      run(null, createHash('sha256').update(data).digest(), signer.privateKey);
}

function signatureText(unsigned: string, signature: Buffer): string {
  return `${unsigned}${foldBase64(signature.toString('base64'))}\r\n`;
}

// RFC 6376 §5.4.2: instances of a repeated field are taken from the bottom up; listing a
// name once more than it occurs signs its absence (the extra entry contributes nothing).
function selectHeaders(
  wanted: readonly string[],
  fields: readonly HeaderField[],
): { names: string[]; canonical: string } {
  const names: string[] = [];
  let canonical = '';
  for (const name of wanted) {
    const present = fields.filter((field) => field.key === name);
    if (present.length === 0 && !SIGN_ABSENCE.has(name)) continue;
    for (let index = present.length - 1; index >= 0; index--) {
      canonical += `${relaxedHeader(present[index]!.text)}\r\n`;
      names.push(name);
    }
    names.push(name);
  }
  return { names, canonical };
}

function foldTags(tags: readonly string[]): string {
  let out = 'DKIM-Signature:';
  let lineLength = out.length;
  for (const [index, tag] of tags.entries()) {
    const piece = index === tags.length - 1 ? ` ${tag}` : ` ${tag};`;
    // `b=` always starts a line of its own, so the signature folds into full lines.
    if ((lineLength + piece.length > FOLD_AT || index === tags.length - 1) && lineLength > 1) {
      // A long `h=` list folds after its colons (FWS is allowed there, RFC 6376 §3.5).
      const parts = piece.length > FOLD_AT ? splitList(piece) : [piece];
      for (const part of parts) {
        out += `\r\n${part}`;
      }
      lineLength = parts[parts.length - 1]!.length;
    } else {
      out += piece;
      lineLength += piece.length;
    }
  }
  return out;
}

function splitList(piece: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of piece.split(/(?<=:)/)) {
    if (line.length + part.length > FOLD_AT && line.length > 0) {
      lines.push(line);
      line = ` ${part}`;
    } else {
      line += part;
    }
  }
  lines.push(line);
  return lines;
}

function foldBase64(value: string): string {
  // The first chunk shares its line with ` b=`; the rest fold with FWS, which verifiers
  // strip from the b= value before decoding (RFC 6376 §3.5).
  const first = FOLD_AT - 3;
  let out = value.slice(0, first);
  for (let index = first; index < value.length; index += FOLD_AT - 1) {
    out += `\r\n ${value.slice(index, index + FOLD_AT - 1)}`;
  }
  return out;
}
