import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DKIMSignOptions } from 'mailauth';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import { afterEach, describe, expect, it } from 'vitest';
import { createDkimKeyStore, type Simulator } from '../src/index';
import { plainMessage, sendError, startOne, transportFor } from './helpers';

const FROM = 'bounces@sender.test';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed25519 = generateKeyPairSync('ed25519');

async function signBoth(message: string): Promise<string> {
  const { signatures, errors } = await dkimSign(message, {
    signatureData: [
      {
        signingDomain: 'sender.test',
        selector: 'rsa2025',
        algorithm: 'rsa-sha256',
        privateKey: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }),
      },
      {
        signingDomain: 'sender.test',
        selector: 'ed2025',
        algorithm: 'ed25519-sha256',
        privateKey: ed25519.privateKey.export({ format: 'pem', type: 'pkcs8' }),
      },
    ],
  } as DKIMSignOptions);
  expect(errors).toEqual([]);
  return signatures + message;
}

function keyStore() {
  return createDkimKeyStore([
    { domain: 'sender.test', selector: 'rsa2025', publicKey: rsa.publicKey },
    {
      domain: 'sender.test',
      selector: 'ed2025',
      publicKey: ed25519.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    },
  ]);
}

describe('DKIM verification and delivery to a folder', () => {
  let simulator: Simulator | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await simulator?.close();
    simulator = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reports a pass per algorithm and selector for a message signed with RSA and Ed25519', async () => {
    const keys = keyStore();
    simulator = await startOne({}, { dkimResolver: keys.resolver });
    const raw = await signBoth(plainMessage('alice@mbox.test'));
    await transportFor(simulator).sendMail({
      envelope: { from: FROM, to: 'alice@mbox.test' },
      raw,
    });

    const [message] = simulator.messages();
    expect(message!.dkim).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          domain: 'sender.test',
          selector: 'rsa2025',
          algorithm: 'rsa-sha256',
          result: 'pass',
        }),
        expect.objectContaining({
          domain: 'sender.test',
          selector: 'ed2025',
          algorithm: 'ed25519-sha256',
          result: 'pass',
        }),
      ]),
    );
    expect(message!.dkim).toHaveLength(2);
    expect(simulator.stats().mbox!.dkim).toEqual({
      'rsa-sha256': { pass: 1 },
      'ed25519-sha256': { pass: 1 },
    });
    expect(keys.queries).toEqual(
      expect.arrayContaining(['rsa2025._domainkey.sender.test', 'ed2025._domainkey.sender.test']),
    );
  });

  it('passes neither signature once the body or a signed header was altered after signing', async () => {
    simulator = await startOne({}, { dkimResolver: keyStore().resolver });
    const signed = await signBoth(plainMessage('alice@mbox.test', 'Pay 10 EUR.'));
    const transport = transportFor(simulator);
    const envelope = { from: FROM, to: 'alice@mbox.test' };
    await transport.sendMail({ envelope, raw: signed.replace('Pay 10 EUR.', 'Pay 99 EUR.') });
    await transport.sendMail({ envelope, raw: signed.replace('Subject: Test', 'Subject: Urgent') });

    const [bodyAltered, headerAltered] = simulator
      .messages()
      .map((message) =>
        message.dkim
          .map((check) => `${check.algorithm} ${check.result} ${check.comment ?? ''}`)
          .sort(),
      );
    // Like Gmail, mailauth calls a body hash mismatch "neutral", a bad header signature "fail".
    expect(bodyAltered).toEqual([
      'ed25519-sha256 neutral body hash did not verify',
      'rsa-sha256 neutral body hash did not verify',
    ]);
    expect(headerAltered).toEqual([
      expect.stringMatching(/^ed25519-sha256 fail/),
      expect.stringMatching(/^rsa-sha256 fail/),
    ]);
    expect(simulator.stats().mbox!.dkim).toEqual({
      'rsa-sha256': { neutral: 1, fail: 1 },
      'ed25519-sha256': { neutral: 1, fail: 1 },
    });
  });

  it('refuses with 550 5.7.26 when requireDkimPass is set and no signature verifies', async () => {
    simulator = await startOne({ requireDkimPass: true }, { dkimResolver: keyStore().resolver });
    const error = await sendError(
      transportFor(simulator).sendMail({
        envelope: { from: FROM, to: 'a@mbox.test' },
        raw: plainMessage('a@mbox.test'),
      }),
    );
    expect(error).toMatchObject({ responseCode: 550 });
    expect(error!.response).toContain('5.7.26');
  });

  it('writes each accepted message to <outputDir>/<provider>/<id>.eml with trace headers', async () => {
    dir = await mkdtemp(join(tmpdir(), 'relais-simulator-'));
    simulator = await startOne({}, { dkimResolver: keyStore().resolver, outputDir: dir });
    const raw = await signBoth(plainMessage('alice@mbox.test'));
    await transportFor(simulator).sendMail({
      envelope: { from: FROM, to: 'alice@mbox.test' },
      raw,
    });

    const [message] = simulator.messages();
    expect(await readdir(join(dir, 'mbox'))).toEqual([`${message!.id}.eml`]);
    const written = await readFile(message!.file!, 'utf8');
    expect(
      written.startsWith(`Return-Path: <${FROM}>\r\nAuthentication-Results: mx.mbox.test;`),
    ).toBe(true);
    expect(written).toContain(
      'dkim=pass header.d=sender.test header.s=ed2025 header.a=ed25519-sha256',
    );
    expect(written.endsWith(raw)).toBe(true);
  });
});
