import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { RelaisError } from '@relais/domain';

/** One DKIM key to publish: a DkimSigner fits, as does a selector with a PEM key. */
export interface DkimKeyDescription {
  selector: string;
  /** The public key, or a PEM of the public or the private key. */
  publicKey: KeyObject | string;
}

/** What to publish for one sending domain. */
export interface DnsRecordsInput {
  /** The From domain, DKIM `d=` and DMARC domain. */
  domain: string;
  dkim: readonly DkimKeyDescription[];
  /** The MAIL FROM (VERP) domain, where SPF is checked; defaults to `domain`. */
  bounceDomain?: string | undefined;
  /** Addresses and includes of the sending MTAs, for SPF. */
  spf?:
    { ip4?: readonly string[]; ip6?: readonly string[]; include?: readonly string[] } | undefined;
  /** DMARC aggregate reports go here (`rua=mailto:…`); DMARC is suggested at `p=none`. */
  dmarcReportAddress?: string | undefined;
}

/** One TXT record to publish. */
export interface DnsTxtRecord {
  /** Fully qualified owner name, without the trailing dot. */
  name: string;
  type: 'TXT';
  purpose: 'dkim' | 'spf' | 'dmarc';
  /** The whole value. */
  value: string;
  /** The value cut into the ≤ 255-octet character-strings one TXT record holds (RFC 1035 §3.3). */
  strings: string[];
  /** A sentence for the operator: what the record does and what to check. */
  note: string;
}

/**
 * The TXT records a domain needs for relais mail to pass DKIM, SPF and DMARC. DKIM
 * records are exact; SPF and DMARC are suggestions to review: DMARC starts at `p=none`
 * so reports can show every legitimate source before a stricter policy.
 */
export function dnsRecords(input: DnsRecordsInput): DnsTxtRecord[] {
  const domain = input.domain.toLowerCase();
  const bounceDomain = (input.bounceDomain ?? domain).toLowerCase();
  const records = input.dkim.map((key) => dkimRecord(domain, key));

  const mechanisms = [
    ...(input.spf?.ip4 ?? []).map((ip) => `ip4:${ip}`),
    ...(input.spf?.ip6 ?? []).map((ip) => `ip6:${ip}`),
    ...(input.spf?.include ?? []).map((host) => `include:${host}`),
  ];
  records.push(
    txt(
      bounceDomain,
      'spf',
      ['v=spf1', ...(mechanisms.length > 0 ? mechanisms : ['mx']), '~all'].join(' '),
      'SPF is checked on the MAIL FROM (VERP) domain; list every MTA that sends for it. ' +
        'Keep it a subdomain of the From domain so relaxed SPF alignment holds for DMARC.',
    ),
  );
  const rua =
    input.dmarcReportAddress === undefined ? '' : `; rua=mailto:${input.dmarcReportAddress}`;
  records.push(
    txt(
      `_dmarc.${domain}`,
      'dmarc',
      `v=DMARC1; p=none${rua}; adkim=r; aspf=r`,
      'Start at p=none, read the aggregate reports, then move to quarantine and reject.',
    ),
  );
  return records;
}

function dkimRecord(domain: string, key: DkimKeyDescription): DnsTxtRecord {
  const publicKey =
    typeof key.publicKey === 'string' ? createPublicKey(key.publicKey) : key.publicKey;
  let tags: string;
  if (publicKey.asymmetricKeyType === 'rsa') {
    tags = `k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
  } else if (publicKey.asymmetricKeyType === 'ed25519') {
    // RFC 8463 §4.2: the bare 32-byte key, not its SubjectPublicKeyInfo wrapping.
    const jwk = publicKey.export({ format: 'jwk' });
    tags = `k=ed25519; p=${Buffer.from(jwk.x ?? '', 'base64url').toString('base64')}`;
  } else {
    throw new RelaisError('CONFIG_INVALID', 'DKIM keys are RSA or Ed25519', {
      details: { selector: key.selector, keyType: publicKey.asymmetricKeyType ?? null },
    });
  }
  return txt(
    `${key.selector.toLowerCase()}._domainkey.${domain}`,
    'dkim',
    `v=DKIM1; ${tags}`,
    'Publish before signing with this selector; keep the old selector until mail signed with it has been delivered.',
  );
}

function txt(
  name: string,
  purpose: DnsTxtRecord['purpose'],
  value: string,
  note: string,
): DnsTxtRecord {
  const strings: string[] = [];
  for (let index = 0; index < value.length; index += 255)
    strings.push(value.slice(index, index + 255));
  return { name, type: 'TXT', purpose, value, strings, note };
}
