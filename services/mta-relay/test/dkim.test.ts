import { generateKeyPairSync } from 'node:crypto';
import { createDkimSigner, signMessage } from '@relais/mail';
import { createDkimKeyStore } from '@relais/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from './helpers';

// The relay must put the signed bytes on the wire unchanged: any rewrite of a header or the
// body (line endings, a generated Message-ID, re-encoding) breaks the signatures below.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed25519 = generateKeyPairSync('ed25519');
const signers = [
  createDkimSigner({
    domain: 'sender.test',
    selector: 'rsa2025',
    algorithm: 'rsa-sha256',
    privateKeyPem: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  }),
  createDkimSigner({
    domain: 'sender.test',
    selector: 'ed2025',
    algorithm: 'ed25519-sha256',
    privateKeyPem: ed25519.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  }),
];
const keys = createDkimKeyStore([
  { domain: 'sender.test', selector: 'rsa2025', publicKey: rsa.publicKey },
  { domain: 'sender.test', selector: 'ed2025', publicKey: ed25519.publicKey },
]);

function message(to: string, id: string, body: string[]): Buffer {
  return Buffer.from(
    [
      'From: Sender <news@sender.test>',
      `To: <${to}>`,
      'Subject: =?UTF-8?Q?Caf=C3=A9?= news',
      'Date: Tue, 01 Jul 2025 10:00:00 +0000',
      `Message-ID: <${id}@sender.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      ...body,
    ].join('\r\n'),
  );
}

describe('DKIM survives the relay', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      profiles: [{ name: 'mbox', domains: ['mbox.test'] }],
      dkimResolver: keys.resolver,
    });
  });
  afterAll(() => harness.close());

  it('delivers signed messages whose signatures verify and whose bytes arrive unchanged', async () => {
    const cases = [
      // Ends with CRLF, like every message the dispatcher builds.
      message('plain@mbox.test', 'plain', ['Hello from the relay.', '']),
      // Dot-stuffing on the wire, 8-bit UTF-8 in the body, no final line break.
      message('dots@mbox.test', 'dots', [
        '.leading dot',
        '..two dots',
        '.',
        'Grüße, café — 東京',
        'last line without CRLF',
      ]),
    ].map((raw) => signMessage(raw, signers));
    const ids = await Promise.all(
      cases.map((signed, i) =>
        harness.send(i === 0 ? 'plain@mbox.test' : 'dots@mbox.test', {
          rawBase64: signed.toString('base64'),
        }),
      ),
    );
    await waitFor(() => harness.events.length >= cases.length);
    expect(ids.map((id) => harness.eventsOf(id).map((event) => event.type))).toEqual([
      ['delivery.delivered'],
      ['delivery.delivered'],
    ]);

    const received = harness.simulator.messages();
    expect(received).toHaveLength(2);
    for (const [i, signed] of cases.entries()) {
      const to = i === 0 ? 'plain@mbox.test' : 'dots@mbox.test';
      const got = received.find((candidate) => candidate.recipients.includes(to));
      expect(got?.mailFrom).toBe('bounce+abc@sender.test');
      // SMTP ends the data with a line break; a message without one gains exactly CRLF.
      const expected =
        signed.subarray(-2).toString() === '\r\n'
          ? signed
          : Buffer.concat([signed, Buffer.from('\r\n')]);
      expect(got?.raw.equals(expected)).toBe(true);
      expect(got?.dkim.map((check) => `${check.algorithm} ${check.result}`).sort()).toEqual([
        'ed25519-sha256 pass',
        'rsa-sha256 pass',
      ]);
    }
  });
});
