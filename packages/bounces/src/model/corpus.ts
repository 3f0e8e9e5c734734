import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { classifyReport } from '../classify-report';
import { parseReport } from '../report/index';
import { extractFeatures, modelInputOf } from './features';
import type { LabelledSample } from './train';

/**
 * Labels the rules own: complaints, auto-replies and non-bounces are recognized by the
 * report's structure, not by a diagnostic, so the model never learns them.
 */
const NOT_MODELLED = new Set(['feedback', 'vacation', 'not-bounce', 'delivered']);

/**
 * The training samples of a labelled corpus: every `labels.tsv` below `root` (file, reason,
 * hard_soft, source_mta; several recipients comma-joined in recipient order), each message
 * parsed and its recipients paired with the labels in order (one label covers them all).
 * Folders and rows are read in sorted order so that the samples, and the model, are stable.
 */
export function readLabelledSamples(root: string): LabelledSample[] {
  const samples: LabelledSample[] = [];
  for (const dir of labelledFolders(root)) {
    const rows = readFileSync(join(dir, 'labels.tsv'), 'utf8').split(/\r?\n/).slice(1);
    const entries = rows
      .map((row) => row.split('\t'))
      .filter(([file]) => file !== undefined && file !== '')
      .sort(([a], [b]) => (a ?? '').localeCompare(b ?? ''));
    for (const [file = '', reasonList = ''] of entries) {
      const labels = reasonList.split(',');
      const report = parseReport(readFileSync(join(dir, file)));
      if (report.kind !== 'bounce') continue;
      const rules = classifyReport(report, { model: false }).recipients;
      for (const [i, recipient] of report.recipients.entries()) {
        const reason = labels[Math.min(i, labels.length - 1)] ?? '';
        if (reason === '' || NOT_MODELLED.has(reason)) continue;
        const rule = rules[i]?.reason;
        samples.push({
          features: extractFeatures(modelInputOf(report, recipient, rule)),
          rule: rule ?? 'undefined',
          reason,
          group: relative(root, join(dir, file)),
        });
      }
    }
  }
  return samples;
}

function labelledFolders(dir: string): string[] {
  const entries = readdirSync(dir).sort();
  const nested = entries
    .map((entry) => join(dir, entry))
    .filter((path) => statSync(path).isDirectory())
    .flatMap(labelledFolders);
  return entries.includes('labels.tsv') ? [dir, ...nested] : nested;
}
