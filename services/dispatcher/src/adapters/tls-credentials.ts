import { readFileSync } from 'node:fs';
import { RelaisError } from '@relais/domain';
import { generate } from 'selfsigned';

/** The STARTTLS key and certificate, as PEM. */
export interface TlsCredentials {
  privateKey: string;
  certificate: string;
  /** True when the pair was generated because none was configured. */
  generated: boolean;
}

/**
 * The configured pair (PEM text, or paths read now so a missing file fails the start), or a
 * self-signed pair for `hostname` generated in memory when neither is configured: clients of
 * embedded mode must then accept it explicitly.
 */
export async function loadTlsCredentials(
  tls: { privateKey?: string | undefined; certificate?: string | undefined },
  hostname: string,
): Promise<TlsCredentials> {
  if (tls.privateKey !== undefined && tls.certificate !== undefined) {
    return {
      privateKey: pemOrFile(tls.privateKey, 'key'),
      certificate: pemOrFile(tls.certificate, 'certificate'),
      generated: false,
    };
  }
  if (tls.privateKey !== undefined || tls.certificate !== undefined) {
    throw new RelaisError(
      'CONFIG_INVALID',
      'submission.tls needs both privateKey and certificate, or neither',
    );
  }
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  return { privateKey: pems.private, certificate: pems.cert, generated: true };
}

function pemOrFile(value: string, what: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (error) {
    throw new RelaisError('CONFIG_INVALID', `cannot read the submission TLS ${what} file`, {
      cause: error,
      details: { path: value },
    });
  }
}
