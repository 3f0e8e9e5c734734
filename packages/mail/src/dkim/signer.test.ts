import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { relaxedHeader, splitMessage } from './canonicalize';
import { createDkimSigner, signMessage, signMessageAsync } from './signer';

const pem = (key: { export(options: { type: 'pkcs8'; format: 'pem' }): string | Buffer }) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const rsaSigner = createDkimSigner({
  domain: 'Acme.Example',
  selector: 'r2026',
  privateKeyPem: pem(rsa.privateKey),
  algorithm: 'rsa-sha256',
});
const edSigner = createDkimSigner({
  domain: 'acme.example',
  selector: 'e2026',
  privateKeyPem: pem(ed.privateKey),
  algorithm: 'ed25519-sha256',
});
const message = Buffer.from(
  'From: news@acme.example\r\nTo: zoe@example.com\r\nSubject: Hi\r\nDate: Sun, 01 Mar 2026 09:30:00 +0000\r\n' +
    'Message-ID: <1@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello\r\n',
);
const now = new Date('2026-03-01T09:30:05Z');

function tags(signed: Buffer): Record<string, string>[] {
  const { fields } = splitMessage(signed);
  return fields
    .filter((field) => field.key === 'dkim-signature')
    .map((field) =>
      Object.fromEntries(
        relaxedHeader(field.text)
          .slice('dkim-signature:'.length)
          .split(';')
          .map((tag) => tag.trim().split(/=(.*)/s).slice(0, 2) as [string, string])
          .map(([key, value]) => [key, value.replace(/\s+/g, '')]),
      ),
    );
}

describe('signMessage', () => {
  it('adds one signature per signer, sharing one body hash', () => {
    const [first, second] = tags(signMessage(message, [rsaSigner, edSigner], { now }));
    expect(first).toMatchObject({
      a: 'rsa-sha256',
      d: 'acme.example',
      s: 'r2026',
      c: 'relaxed/relaxed',
    });
    expect(second).toMatchObject({ a: 'ed25519-sha256', s: 'e2026' });
    expect(first!['bh']).toBe(createHash('sha256').update('Hello\r\n').digest('base64'));
    expect(second!['bh']).toBe(first!['bh']);
  });

  it('signs on the thread pool to the very bytes the synchronous path gives', async () => {
    // RSA PKCS#1 v1.5 and Ed25519 are deterministic: equal bytes prove equal inputs.
    const onPool = await signMessageAsync(message, [rsaSigner, edSigner], { now });
    expect(onPool.equals(signMessage(message, [rsaSigner, edSigner], { now }))).toBe(true);
    expect(await signMessageAsync(message, [], { now })).toBe(message);
  });

  it('sets t= from the clock and never l=', () => {
    const [signature] = tags(signMessage(message, [rsaSigner], { now }));
    expect(signature!['t']).toBe(String(Math.floor(now.getTime() / 1000)));
    expect(signature).not.toHaveProperty('l');
    expect(signature).not.toHaveProperty('x');
  });

  it('over-signs the fields present and signs the absence of Cc, Reply-To and List-Unsubscribe', () => {
    const [signature] = tags(signMessage(message, [rsaSigner], { now }));
    const names = signature!['h']!.split(':');
    for (const name of [
      'from',
      'to',
      'subject',
      'date',
      'message-id',
      'mime-version',
      'content-type',
    ]) {
      expect(
        names.filter((entry) => entry === name),
        name,
      ).toHaveLength(2);
    }
    for (const name of ['cc', 'reply-to', 'list-unsubscribe', 'list-unsubscribe-post']) {
      expect(
        names.filter((entry) => entry === name),
        name,
      ).toHaveLength(1);
    }
    expect(names).not.toContain('feedback-id');
  });

  it('signs ed25519 over the SHA-256 of the header data (RFC 8463)', () => {
    const signed = signMessage(message, [edSigner], { now });
    const { fields } = splitMessage(signed);
    const signatureField = fields[0]!.text;
    const names = tags(signed)[0]!['h']!.split(':');
    const used = new Map<string, number>();
    let data = '';
    for (const name of names) {
      const present = fields.filter((field) => field.key === name);
      const count = used.get(name) ?? 0;
      used.set(name, count + 1);
      const field = present[present.length - 1 - count];
      if (field !== undefined) data += `${relaxedHeader(field.text)}\r\n`;
    }
    data += relaxedHeader(signatureField.replace(/b=[\w+/=\s]*$/, 'b='));
    const b = tags(signed)[0]!['b']!;
    const digest = createHash('sha256').update(data, 'latin1').digest();
    expect(verify(null, digest, ed.publicKey, Buffer.from(b, 'base64'))).toBe(true);
  });

  it('folds the signature field into lines of at most 78 characters', () => {
    const signed = signMessage(message, [rsaSigner, edSigner], { now }).toString();
    const header = signed.slice(0, signed.indexOf('From:'));
    for (const line of header.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
  });

  it('returns the message unchanged without signers', () => {
    expect(signMessage(message, [])).toBe(message);
  });
});

describe('createDkimSigner', () => {
  it('refuses a key of the wrong type for the algorithm', () => {
    expect(() =>
      createDkimSigner({
        domain: 'a.example',
        selector: 's',
        privateKeyPem: pem(ed.privateKey),
        algorithm: 'rsa-sha256',
      }),
    ).toThrow(/needs an rsa key/);
  });

  it('refuses RSA keys shorter than 2048 bits', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() =>
      createDkimSigner({
        domain: 'a.example',
        selector: 's',
        privateKeyPem: pem(small.privateKey),
        algorithm: 'rsa-sha256',
      }),
    ).toThrow(/2048/);
  });

  it('refuses an unreadable key or a selector that is not a DNS name', () => {
    expect(() =>
      createDkimSigner({
        domain: 'a.example',
        selector: 's',
        privateKeyPem: 'nope',
        algorithm: 'rsa-sha256',
      }),
    ).toThrow(/readable PEM/);
    expect(() =>
      createDkimSigner({
        domain: 'a.example',
        selector: 'a;b',
        privateKeyPem: pem(ed.privateKey),
        algorithm: 'ed25519-sha256',
      }),
    ).toThrow(/DNS names/);
  });
});
