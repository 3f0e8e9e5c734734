import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dnsRecords } from './dns-records';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');

describe('dnsRecords', () => {
  const records = dnsRecords({
    domain: 'Acme.Example',
    bounceDomain: 'bounces.acme.example',
    dkim: [
      { selector: 'r2026', publicKey: rsa.publicKey },
      {
        selector: 'e2026',
        publicKey: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    ],
    spf: { ip4: ['192.0.2.10'], include: ['_spf.relay.example'] },
    dmarcReportAddress: 'dmarc@acme.example',
  });

  it('publishes an RSA key as its SubjectPublicKeyInfo', () => {
    const record = records.find((entry) => entry.name === 'r2026._domainkey.acme.example')!;
    const der = rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(record.value).toBe(`v=DKIM1; k=rsa; p=${der}`);
    expect(record.strings.join('')).toBe(record.value);
    expect(record.strings.every((chunk) => chunk.length <= 255)).toBe(true);
    expect(record.strings.length).toBeGreaterThan(1);
  });

  it('publishes an Ed25519 key as the bare 32 bytes (RFC 8463 §4.2), even given the private PEM', () => {
    const record = records.find((entry) => entry.name === 'e2026._domainkey.acme.example')!;
    const p = /p=(.+)$/.exec(record.value)![1]!;
    expect(record.value).toMatch(/^v=DKIM1; k=ed25519; p=/);
    expect(Buffer.from(p, 'base64')).toHaveLength(32);
    const spki = ed.publicKey.export({ type: 'spki', format: 'der' });
    expect(Buffer.from(p, 'base64')).toEqual(spki.subarray(spki.length - 32));
  });

  it('suggests SPF on the bounce domain and DMARC at p=none', () => {
    expect(records.find((entry) => entry.purpose === 'spf')).toMatchObject({
      name: 'bounces.acme.example',
      value: 'v=spf1 ip4:192.0.2.10 include:_spf.relay.example ~all',
    });
    expect(records.find((entry) => entry.purpose === 'dmarc')).toMatchObject({
      name: '_dmarc.acme.example',
      value: 'v=DMARC1; p=none; rua=mailto:dmarc@acme.example; adkim=r; aspf=r',
    });
  });
});
