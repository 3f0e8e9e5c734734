import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnTs } from '@relais/testing';

const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'relais-dns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  const child = spawnTs(entry, { args, killAfterMs: 60_000 });
  const exit = await child.exited;
  return { ...exit, lines: child.lines };
}

type TxtRecord = { name: string; purpose: string; value: string; strings: string[] };

function spkiBase64(pemPath: string): string {
  const key = createPublicKey(createPrivateKey({ key: readPem(pemPath) }));
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

function readPem(path: string): string {
  return readFileSync(path, 'utf8');
}

describe('relais dns', () => {
  it('generates both keys owner-only and prints DKIM, SPF and DMARC records that match them', async () => {
    const generated = await run([
      'dns',
      '--domain',
      'News.Example.com',
      '--generate',
      dir,
      '--ip4',
      '192.0.2.10',
      '--dmarc-rua',
      'dmarc@example.com',
      '--json',
    ]);
    expect(generated.code).toBe(0);
    const records = JSON.parse(generated.lines.at(-1)!) as TxtRecord[];
    expect(records.map((r) => `${r.purpose} ${r.name}`)).toEqual([
      'dkim rsa1._domainkey.news.example.com',
      'dkim ed1._domainkey.news.example.com',
      'spf news.example.com',
      'dmarc _dmarc.news.example.com',
    ]);
    const rsaFile = join(dir, 'news.example.com.rsa1.rsa.key');
    const edFile = join(dir, 'news.example.com.ed1.ed25519.key');
    expect(statSync(rsaFile).mode & 0o777).toBe(0o600);
    expect(records[0]!.value).toBe(`v=DKIM1; k=rsa; p=${spkiBase64(rsaFile)}`);
    expect(records[0]!.strings.every((s) => s.length <= 255)).toBe(true);
    // RFC 8463: the Ed25519 record carries the raw 32-byte key, not an SPKI structure.
    expect(records[1]!.value).toBe(`v=DKIM1; k=ed25519; p=${spkiBase64(edFile).slice(-44)}`);
    expect(records[2]!.value).toContain('ip4:192.0.2.10');
    expect(records[3]!.value).toContain('rua=mailto:dmarc@example.com');

    const again = await run([
      'dns',
      '--domain',
      'news.example.com',
      '--rsa-key',
      rsaFile,
      '--ed25519-key',
      edFile,
      '--json',
    ]);
    const fromFiles = JSON.parse(again.lines.at(-1)!) as TxtRecord[];
    expect(fromFiles.slice(0, 2).map((r) => r.value)).toEqual(
      records.slice(0, 2).map((r) => r.value),
    );
  });

  it('refuses to guess: no keys and no --generate is a usage error', async () => {
    const refused = await run(['dns', '--domain', 'example.com']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('usage: relais dns');
  });
});

describe('relais simulator', () => {
  it('prints its listening routes on start and its stats on SIGINT', async () => {
    const child = spawnTs(entry, { args: ['simulator', '--base-port', '0'], killAfterMs: 60_000 });
    // The top-level closing brace only (inner objects close indented).
    await child.waitForLine((line) => line === '}', 45_000);
    const { routes } = JSON.parse(child.lines.join('\n')) as {
      routes: { pattern: string; port: number }[];
    };
    expect(routes.length).toBeGreaterThanOrEqual(4);
    expect(routes.every((route) => route.port > 0)).toBe(true);
    const before = child.lines.length;
    child.signal('SIGINT');
    const exit = await child.exited;
    expect(exit.code).toBe(0);
    const stats = JSON.parse(child.lines.slice(before).join('\n')) as {
      stats: Record<string, unknown>;
    };
    expect(Object.keys(stats.stats).length).toBeGreaterThanOrEqual(4);
  });
});
