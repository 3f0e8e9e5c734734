import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { classifyReport, parseReport, type ReportVerdict } from '@relais/bounces';

const USAGE = `usage: relais bounces classify <file-or-folder>...
       relais bounces eval <folder>

classify  one JSON line per message (.eml, folders walked):
          {"file","kind","recipients":[{"address","reason","hard","status","replyCode","confidence"}]}
eval      reads every labels.tsv below <folder> (file, reason, hard_soft, source_mta; several
          recipients comma-joined), prints a confusion table, then as its last line
          {"messages","reasonAccuracy","hardSoftAccuracy"}
`;

function emlFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = join(path, entry.name);
      if (entry.isDirectory()) return emlFiles(full);
      return entry.name.endsWith('.eml') ? [full] : [];
    });
}

function verdictOf(file: string): ReportVerdict {
  return classifyReport(parseReport(readFileSync(file)));
}

/** The reason a labelled message is judged by: the first recipient's, or the kind's. */
function predictedReasons(verdict: ReportVerdict): { reason: string; hard: boolean }[] {
  if (verdict.recipients.length > 0) {
    return verdict.recipients.map(({ reason, hard }) => ({ reason, hard }));
  }
  return [{ reason: verdict.kind === 'other' ? 'not-bounce' : 'undefined', hard: false }];
}

function evaluate(folder: string): void {
  const labelFiles = findLabels(folder);
  const confusion = new Map<string, Map<string, number>>();
  let verdicts = 0;
  let reasonsRight = 0;
  let hardSoftRight = 0;
  let hardSoftScored = 0;
  let messages = 0;
  for (const labels of labelFiles) {
    const rows = readFileSync(labels, 'utf8').split(/\r?\n/).slice(1).filter(Boolean);
    for (const row of rows) {
      const [file, reasonList, hardSoftList] = row.split('\t');
      if (file === undefined || reasonList === undefined || hardSoftList === undefined) continue;
      messages += 1;
      const predicted = predictedReasons(verdictOf(join(dirname(labels), file)));
      const reasons = reasonList.split(',');
      const hardSoft = hardSoftList.split(',');
      reasons.forEach((expected, i) => {
        const got = predicted[Math.min(i, predicted.length - 1)]!;
        verdicts += 1;
        if (got.reason === expected) reasonsRight += 1;
        // Feedback, vacation and not-bounce are neither hard nor soft: never hard. A recipient
        // the label file gives no hard/soft value for (a shorter list) is not scored on it.
        const label = hardSoft[i];
        if (label !== undefined && label !== '') {
          hardSoftScored += 1;
          if (got.hard === (label === 'hard')) hardSoftRight += 1;
        }
        const row = confusion.get(expected) ?? new Map<string, number>();
        row.set(got.reason, (row.get(got.reason) ?? 0) + 1);
        confusion.set(expected, row);
      });
    }
  }
  process.stdout.write('expected reason       n  right  mistaken for\n');
  for (const [expected, row] of [...confusion].sort(([a], [b]) => a.localeCompare(b))) {
    const total = [...row.values()].reduce((sum, n) => sum + n, 0);
    const mistakes = [...row]
      .filter(([got]) => got !== expected)
      .sort((a, b) => b[1] - a[1])
      .map(([got, n]) => `${got} ${n}`)
      .join(', ');
    process.stdout.write(
      `${expected.padEnd(18)} ${String(total).padStart(4)} ${String(row.get(expected) ?? 0).padStart(6)}  ${mistakes}\n`,
    );
  }
  const round = (value: number) => Math.round(value * 10_000) / 10_000;
  process.stdout.write(
    `${JSON.stringify({
      messages,
      reasonAccuracy: round(verdicts === 0 ? 0 : reasonsRight / verdicts),
      hardSoftAccuracy: round(hardSoftScored === 0 ? 0 : hardSoftRight / hardSoftScored),
    })}\n`,
  );
}

function findLabels(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = join(folder, entry.name);
    if (entry.isDirectory()) return findLabels(full);
    return entry.name === 'labels.tsv' ? [full] : [];
  });
}

/** `relais bounces`: classify bounce, complaint and auto-reply messages, or score a corpus. */
export function bounces(argv: readonly string[]): void {
  const [sub, ...paths] = argv;
  if ((sub !== 'classify' && sub !== 'eval') || paths.length === 0) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  if (sub === 'eval') {
    evaluate(paths[0]!);
    return;
  }
  for (const path of paths) {
    for (const file of emlFiles(path)) {
      const verdict = verdictOf(file);
      const shown = paths.length === 1 && path !== file ? relative(path, file) : file;
      process.stdout.write(
        `${JSON.stringify({ file: shown || basename(file), kind: verdict.kind, recipients: verdict.recipients })}\n`,
      );
    }
  }
}
