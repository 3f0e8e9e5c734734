import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { describe, expect, it } from 'vitest';
import type { DkimSigner } from '../src/index';
import { buildMessage, createDkimSigner, dnsRecords, signMessage } from '../src/index';

// Both verifiers get the public keys from a fake zone built by dnsRecords, so the records
// an operator would publish are what is tested.
const secret = 'a-test-secret-of-at-least-32-bytes!!';
const pem = (algorithm: 'rsa' | 'ed25519') =>
  (algorithm === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ed25519')
  ).privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
const rsa = createDkimSigner({
  domain: 'acme.example',
  selector: 'r2026',
  privateKeyPem: pem('rsa'),
  algorithm: 'rsa-sha256',
});
const ed = createDkimSigner({
  domain: 'acme.example',
  selector: 'e2026',
  privateKeyPem: pem('ed25519'),
  algorithm: 'ed25519-sha256',
});
const zone: Record<string, string> = Object.fromEntries(
  dnsRecords({ domain: 'acme.example', dkim: [rsa, ed] })
    .filter((record) => record.purpose === 'dkim')
    .map((record) => [record.name, record.value]),
);

function signedMessage(signers: DkimSigner[]): Buffer {
  const built = buildMessage({
    messageId: '0190f3c2-7b1e-7c3a-9d4e-1f2a3b4c5d6e',
    from: { address: 'news@acme.example', name: 'Acme Nëws' },
    to: { address: 'zoe@example.com', name: 'Zoë "Z" Dupont, Jr.' },
    subject:
      'Überraschung — a subject long enough to be folded over more than one line, twice over',
    html: '<p>Bonjour   Zoë  </p>\n\n\n<p>' + 'x'.repeat(300) + '</p>\n',
    text: 'Bonjour Zoë  \t\n\n',
    date: new Date('2026-03-01T09:30:00Z'),
    bounce: { domain: 'bounces.acme.example', secret },
    unsubscribe: { baseUrl: 'https://u.acme.example', secret, mailto: 'unsub@acme.example' },
    feedbackId: { campaignId: 'c42', tenantId: 't7', mailClass: 'bulk', senderId: 'relais' },
  });
  return signMessage(built.raw, signers, { now: new Date('2026-03-01T09:30:01Z') });
}

async function mailauthResults(message: Buffer) {
  const queries: string[] = [];
  const result = await dkimVerify(message, {
    curTime: new Date('2026-03-01T10:00:00Z'),
    resolver: async (name: string, type: string) => {
      queries.push(`${type} ${name}`);
      const value = zone[name];
      if (value === undefined)
        throw Object.assign(new Error('no such name'), { code: 'ENOTFOUND' });
      return [[value]];
    },
  });
  return { queries, results: result.results.map((entry) => [entry.status.result, entry.info]) };
}

describe('mailauth dkimVerify', () => {
  it('passes an RSA and an Ed25519 signature on the same message', async () => {
    const { queries, results } = await mailauthResults(signedMessage([rsa, ed]));
    expect(results).toEqual([
      ['pass', expect.stringContaining('header.a=rsa-sha256')],
      ['pass', expect.stringContaining('header.a=ed25519-sha256')],
    ]);
    expect(queries).toEqual([
      'TXT r2026._domainkey.acme.example',
      'TXT e2026._domainkey.acme.example',
    ]);
  });

  it('fails both signatures when the body or a signed field changes', async () => {
    const message = signedMessage([rsa, ed]).toString('latin1');
    for (const tampered of [
      message.replace('Bonjour', 'Bonsoir'),
      message.replace('Feedback-ID: c42', 'Feedback-ID: c43'),
    ]) {
      const { results } = await mailauthResults(Buffer.from(tampered, 'latin1'));
      // mailauth calls a body hash mismatch `neutral` and a header mismatch `fail`.
      expect(results).toHaveLength(2);
      expect(results.map(([status]) => status)).not.toContain('pass');
    }
  });

  it('fails when a second From or a Reply-To is added in transit', async () => {
    const message = signedMessage([rsa, ed]).toString('latin1');
    for (const added of ['From: evil@x.example\r\n', 'Reply-To: evil@x.example\r\n']) {
      const tampered = message.replace('\r\nFrom:', `\r\n${added}From:`);
      const { results } = await mailauthResults(Buffer.from(tampered, 'latin1'));
      expect(
        results.map(([status]) => status),
        added,
      ).toEqual(['fail', 'fail']);
    }
  });
});

// dkimpy from Debian (python3-dkim, with python3-nacl for Ed25519). Debian's packages land
// in /usr/bin/python3's path, not in a pyenv or venv python that may come first on PATH.
const PYTHON = process.env['RELAIS_PYTHON3'] ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./verify-dkim.py', import.meta.url));

function dkimpy(message: Buffer): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(PYTHON, [SCRIPT, JSON.stringify(zone)], (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(message);
  });
}

describe('dkimpy (python3-dkim), an independent verifier', () => {
  it('is installed with Ed25519 support', async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(PYTHON, ['-c', 'import dkim, nacl.signing'], (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : 1, output: `${stdout}${stderr}` }),
      );
    });
    expect(
      code,
      `${PYTHON} cannot import dkim and nacl: apt-get install -y python3-dkim python3-nacl\n${output}`,
    ).toBe(0);
  });

  it.each([
    ['rsa-sha256', [rsa]],
    ['ed25519-sha256', [ed]],
    ['both', [rsa, ed]],
  ] as const)('verifies %s', async (_label, signers) => {
    const { code, output } = await dkimpy(signedMessage([...signers]));
    expect(code, output).toBe(0);
    const report = JSON.parse(output) as { results: { ok: boolean; algorithm: string }[] };
    expect(report.results.map((entry) => entry.algorithm)).toEqual(
      signers.map((signer) => signer.algorithm),
    );
  });

  it('rejects a tampered message', async () => {
    const tampered = Buffer.from(
      signedMessage([rsa, ed]).toString('latin1').replace('Bonjour', 'Bonsoir'),
      'latin1',
    );
    const { code, output } = await dkimpy(tampered);
    expect(code, output).toBe(1);
    expect(
      (JSON.parse(output) as { results: { ok: boolean }[] }).results.map((entry) => entry.ok),
    ).toEqual([false, false]);
  });
});
