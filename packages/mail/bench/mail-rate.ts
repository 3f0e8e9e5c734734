// Messages built and signatures made per second on one core, against the libraries the
// choices in this package were measured against: nodemailer's MailComposer for building,
// mailauth's dkimSign for signing. Run: pnpm --filter @relais/mail bench
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import type { DKIMSignOptions } from 'mailauth';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { BuildMessageInput } from '../src/index';
import { buildMessage, createDkimSigner, signMessage } from '../src/index';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 2);
const secret = 'bench-secret-bench-secret-bench-secret';
const html =
  '<html><body>' +
  '<p>Bonjour Zoë, voici nos offres de la semaine à ne pas manquer !</p>\n'.repeat(20) +
  '</body></html>';
const text = 'Bonjour Zoë, voici nos offres de la semaine à ne pas manquer !\n'.repeat(10);

function input(): BuildMessageInput {
  return {
    messageId: randomUUID(),
    from: { address: 'news@acme.example', name: 'Acme News' },
    to: { address: 'zoe@example.com', name: 'Zoë Dupont' },
    subject: 'Offres spéciales pour Zoë',
    html,
    text,
    date: new Date(),
    bounce: { domain: 'bounces.acme.example', secret },
    unsubscribe: { baseUrl: 'https://u.acme.example', secret, mailto: 'unsub@acme.example' },
    feedbackId: { campaignId: 'c42', tenantId: 't7', mailClass: 'bulk', senderId: 'relais' },
  };
}

async function composer(): Promise<Buffer> {
  const built = buildMessage(input());
  const mail = new MailComposer({
    from: '"Acme News" <news@acme.example>',
    to: '"Zoë Dupont" <zoe@example.com>',
    subject: 'Offres spéciales pour Zoë',
    html,
    text,
    messageId: built.messageIdHeader,
    headers: {
      'List-Unsubscribe': `<${built.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Feedback-ID': 'c42:t7:bulk:relais',
    },
  });
  return mail.compile().build();
}

async function rate(label: string, run: () => unknown): Promise<number> {
  for (let warm = 0; warm < 50; warm++) await run();
  let count = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  while (performance.now() < end) {
    await run();
    count++;
  }
  const perSecond = Math.round(count / ((performance.now() - start) / 1000));
  console.log(`${label.padEnd(52)} ${perSecond.toLocaleString('en').padStart(8)} /s`);
  return perSecond;
}

const pem = (key: { export(options: { type: 'pkcs8'; format: 'pem' }): string | Buffer }) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsaPem = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const edPem = pem(generateKeyPairSync('ed25519').privateKey);
const rsa = createDkimSigner({
  domain: 'acme.example',
  selector: 'r',
  privateKeyPem: rsaPem,
  algorithm: 'rsa-sha256',
});
const ed = createDkimSigner({
  domain: 'acme.example',
  selector: 'e',
  privateKeyPem: edPem,
  algorithm: 'ed25519-sha256',
});
const message = buildMessage(input()).raw;

console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()[0]!.toFixed(2)}`,
);
console.log(
  `message: ${message.length} bytes (html ${Buffer.byteLength(html)} + text ${Buffer.byteLength(text)})`,
);
await rate('build: nodemailer MailComposer', composer);
await rate('build: buildMessage', () => buildMessage(input()));
// dkimSign signs only what is in `signatureData`: top-level key options alone sign nothing.
const mailauthRsa = { signingDomain: 'acme.example', selector: 'r', privateKey: rsaPem };
const mailauthEd = {
  ...mailauthRsa,
  selector: 'e',
  privateKey: edPem,
  algorithm: 'ed25519-sha256',
};
async function mailauthSign(signatureData: DKIMSignOptions[]): Promise<void> {
  const result = await dkimSign(message, { ...mailauthRsa, signatureData });
  if (result.errors.length > 0 || !result.signatures.includes('b=')) throw new Error('not signed');
}
await rate('sign: mailauth dkimSign rsa-sha256 (PEM per call)', () => mailauthSign([mailauthRsa]));
await rate('sign: mailauth dkimSign ed25519-sha256', () => mailauthSign([mailauthEd]));
await rate('sign: mailauth dkimSign rsa + ed25519 (messages)', () =>
  mailauthSign([mailauthRsa, mailauthEd]),
);
// The ceiling: one bare RSA operation with the cached key, no canonicalization or hashing.
const headerData = Buffer.alloc(800, 0x61);
await rate('sign: node:crypto sign rsa-sha256 alone (ceiling)', () =>
  sign('sha256', headerData, rsa.privateKey),
);
await rate('sign: signMessage rsa-sha256', () => signMessage(message, [rsa]));
await rate('sign: signMessage ed25519-sha256', () => signMessage(message, [ed]));
await rate('sign: signMessage rsa + ed25519 (messages)', () => signMessage(message, [rsa, ed]));
await rate('build + sign rsa + ed25519 (messages)', () =>
  signMessage(buildMessage(input()).raw, [rsa, ed]),
);
