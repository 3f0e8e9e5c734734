import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dnsRecords, type DkimKeyDescription } from '@relais/mail';

const USAGE = `usage: relais dns --domain D (--generate DIR | --rsa-key FILE --ed25519-key FILE)
                  [--rsa-selector rsa1] [--ed25519-selector ed1] [--bounce-domain B]
                  [--ip4 A,B] [--include SPF,DOMAINS] [--dmarc-rua ADDRESS] [--json]

Prints the DNS TXT records to publish so relais mail passes DKIM (RSA-2048 and Ed25519:
relais signs every message with both), SPF and DMARC. --generate writes a new pair of
private keys into DIR (mode 0600) for the dispatcher's DKIM settings; the key files
(private or public PEM) can instead be given.
`;

const list = (value: unknown): string[] =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

/** `relais dns`: what to publish in DNS before sending from a domain. */
export function dns(argv: readonly string[]): void {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      domain: { type: 'string' },
      generate: { type: 'string' },
      'rsa-key': { type: 'string' },
      'ed25519-key': { type: 'string' },
      'rsa-selector': { type: 'string', default: 'rsa1' },
      'ed25519-selector': { type: 'string', default: 'ed1' },
      'bounce-domain': { type: 'string' },
      ip4: { type: 'string' },
      include: { type: 'string' },
      'dmarc-rua': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const domain = values.domain?.trim().toLowerCase();
  const givenKeys = values['rsa-key'] !== undefined && values['ed25519-key'] !== undefined;
  if (!domain || (values.generate === undefined) === !givenKeys) {
    process.stderr.write(USAGE);
    process.exit(2);
  }

  const rsaSelector = values['rsa-selector'];
  const edSelector = values['ed25519-selector'];
  let dkim: DkimKeyDescription[];
  if (values.generate !== undefined) {
    mkdirSync(values.generate, { recursive: true });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ed = generateKeyPairSync('ed25519');
    const write = (name: string, pem: string) => {
      const path = join(values.generate!, name);
      // Private keys: readable by the owner only.
      writeFileSync(path, pem, { mode: 0o600 });
      process.stderr.write(`wrote ${path}\n`);
    };
    write(
      `${domain}.${rsaSelector}.rsa.key`,
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    write(
      `${domain}.${edSelector}.ed25519.key`,
      ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    dkim = [
      { selector: rsaSelector, publicKey: rsa.publicKey },
      { selector: edSelector, publicKey: ed.publicKey },
    ];
  } else {
    dkim = [
      { selector: rsaSelector, publicKey: readFileSync(values['rsa-key']!, 'utf8') },
      { selector: edSelector, publicKey: readFileSync(values['ed25519-key']!, 'utf8') },
    ];
  }

  const records = dnsRecords({
    domain,
    dkim,
    bounceDomain: values['bounce-domain'],
    spf: { ip4: list(values.ip4), include: list(values.include) },
    dmarcReportAddress: values['dmarc-rua'],
  });
  if (values.json) {
    process.stdout.write(JSON.stringify(records) + '\n');
    return;
  }
  for (const record of records) {
    process.stdout.write(`; ${record.note}\n`);
    const strings = record.strings.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(' ');
    process.stdout.write(`${record.name}. IN TXT ${strings}\n\n`);
  }
}
