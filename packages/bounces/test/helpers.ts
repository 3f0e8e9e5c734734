import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportKind } from '../src/index';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface Label {
  file: string;
  reason: string;
  path: string;
}

export function labels(folder: string): Label[] {
  const dir = join(FIXTURES, folder);
  return readFileSync(join(dir, 'labels.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((row) => {
      const [file = '', reason = ''] = row.split('\t');
      return { file, reason, path: join(dir, file) };
    });
}

/** The kind a Sisimai label implies: its first reason decides. */
export function expectedKind(reason: string): ReportKind {
  const first = reason.split(',')[0];
  if (first === 'feedback') return 'feedback';
  if (first === 'vacation') return 'autoreply';
  if (first === 'not-bounce' || first === 'delivered') return 'other';
  return 'bounce';
}
