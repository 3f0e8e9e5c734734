/**
 * Trains the reason model shipped in data/reason-model.json:
 * `npx tsx scripts/train-reason-model.ts [corpus-folder] [--out file]` (or `pnpm train`).
 * Reads every labels.tsv below the folder (default /work/shared/corpus/bounces), prints the
 * 10-fold cross-validated and the training accuracy per reason, and writes the model.
 * Deterministic: the same corpus gives the same file, so a diff shows what retraining changed.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readLabelledSamples } from '../src/model/corpus';
import { trainReasonModel } from '../src/model/train';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : undefined;
const positional = args.filter((arg, i) => !arg.startsWith('--') && (outAt < 0 || i !== outAt + 1));
const root = positional[0] ?? '/work/shared/corpus/bounces';
const target = out ?? fileURLToPath(new URL('../data/reason-model.json', import.meta.url));

const samples = readLabelledSamples(root);
const model = trainReasonModel(samples);
const t = model.training;
console.log(`samples ${t.samples} from ${t.messages} messages, ${t.features} features kept`);
console.log('reason              n     cv  train');
for (const [reason, row] of Object.entries(t.byReason)) {
  console.log(
    `${reason.padEnd(18)} ${String(row.n).padStart(3)} ${String(row.cv).padStart(6)} ${String(row.train).padStart(6)}`,
  );
}
for (const [algorithm, cv] of Object.entries(t.candidates)) console.log(`${algorithm}: cv ${cv}`);
const json = `${JSON.stringify(model)}\n`;
writeFileSync(target, json);
console.log(
  JSON.stringify({
    algorithm: model.algorithm,
    crossValidatedAccuracy: t.crossValidatedAccuracy,
    trainingAccuracy: t.trainingAccuracy,
    bytes: Buffer.byteLength(json),
    out: target,
  }),
);
