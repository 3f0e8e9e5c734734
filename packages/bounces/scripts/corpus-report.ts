/**
 * How the parser does on a labelled corpus: `npx tsx scripts/corpus-report.ts <folder>`.
 * Walks the folders holding a labels.tsv and prints, per folder, how many messages got the
 * kind their label implies and how many got a recipient address and a status code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseReport, type ReportKind } from '../src/index';

const root = process.argv[2] ?? '/work/shared/corpus/bounces';
const verbose = process.argv.includes('--verbose');

function expectedKind(reason: string): ReportKind {
  const first = reason.split(',')[0]!;
  if (first === 'feedback') return 'feedback';
  if (first === 'vacation') return 'autoreply';
  if (first === 'not-bounce' || first === 'delivered') return 'other';
  return 'bounce';
}

function folders(dir: string): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir);
  if (entries.includes('labels.tsv')) out.push(dir);
  for (const e of entries.sort()) {
    const path = join(dir, e);
    if (statSync(path).isDirectory()) out.push(...folders(path));
  }
  return out;
}

const totals = { messages: 0, kind: 0, bounces: 0, recipient: 0, status: 0 };
let maxMs = 0;
console.log('folder\tmessages\tkind ok\tbounces\twith recipient\twith status');
for (const dir of folders(root)) {
  const rows = readFileSync(join(dir, 'labels.tsv'), 'utf8').trim().split('\n').slice(1);
  const f = { messages: 0, kind: 0, bounces: 0, recipient: 0, status: 0 };
  for (const row of rows) {
    const [file, reason = ''] = row.split('\t');
    if (file === undefined || file === '') continue;
    const started = performance.now();
    const parsed = parseReport(readFileSync(join(dir, file)));
    maxMs = Math.max(maxMs, performance.now() - started);
    const want = expectedKind(reason);
    f.messages += 1;
    if (parsed.kind === want) f.kind += 1;
    else if (verbose)
      console.log(`  kind ${parsed.kind} != ${want}: ${file} (${reason}) ${parsed.reason ?? ''}`);
    if (want === 'bounce') {
      f.bounces += 1;
      const r = parsed.recipients[0];
      if (r !== undefined) f.recipient += 1;
      if (r?.status !== undefined) f.status += 1;
      else if (verbose && parsed.kind === 'bounce') {
        console.log(
          `  no status: ${file} (${reason}) ${r?.address ?? '-'} ${(r?.diagnostic ?? '').slice(0, 160)}`,
        );
      }
    }
  }
  for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += f[k];
  console.log(
    `${relative(root, dir) || '.'}\t${f.messages}\t${f.kind}\t${f.bounces}\t${f.recipient}\t${f.status}`,
  );
}
console.log(
  `total\t${totals.messages}\t${totals.kind}\t${totals.bounces}\t${totals.recipient}\t${totals.status}`,
);
console.log(`max parse time ${maxMs.toFixed(1)} ms`);
