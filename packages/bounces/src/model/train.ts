import { rankReasons, type RankedReason, type ReasonModel, type TrainingSummary } from './model';

/** One labelled recipient: its features, its Sisimai reason, and the message it came from. */
export interface LabelledSample {
  features: string[];
  reason: string;
  /** The rules' reason for the same recipient (also one of `features`). */
  rule: string;
  /** Samples of one message share a group and always land in the same fold. */
  group: string;
}

/** Knobs of the training; the defaults are what the shipped model was trained with. */
export interface TrainingOptions {
  /** Features seen in fewer samples are dropped (rare words are names, typos, noise). */
  minCount: number;
  /** L2 penalty of the logistic regression (per sample, on the mean loss). */
  l2: number;
  /** Full-batch gradient steps of the logistic regression. */
  epochs: number;
  /** Additive smoothing of complement naive Bayes. */
  alpha: number;
  folds: number;
  seed: number;
}

export const DEFAULT_TRAINING: TrainingOptions = {
  // Stacked on the rules, a lightly penalized model overrules them where it is sure and
  // cross-validates better than they do alone (0.925 against 0.918 at l2 0.0003; 0.918 at
  // 0.003, where it never dares to).
  minCount: 2,
  l2: 0.0003,
  epochs: 400,
  alpha: 1,
  folds: 10,
  seed: 20_260_611,
};

type Algorithm = ReasonModel['algorithm'];
/** A model before its training summary is attached. */
type Scorer = Omit<ReasonModel, 'training' | 'overrideProbability'>;
const ALGORITHMS: readonly Algorithm[] = ['logistic-regression', 'complement-naive-bayes'];

/** Weights are rounded to this many decimals and dropped below `PRUNE`: the file stays small. */
const DECIMALS = 3;
const PRUNE = 0.005;

/**
 * Trains both algorithms, keeps the one with the better cross-validated accuracy (grouped by
 * message, folds drawn with a seeded shuffle), and fits it on every sample. Deterministic:
 * the same samples in the same order give the same model, byte for byte.
 */
export function trainReasonModel(
  samples: readonly LabelledSample[],
  options: Partial<TrainingOptions> = {},
): ReasonModel {
  const opts = { ...DEFAULT_TRAINING, ...options };
  const foldOf = assignFolds(samples, opts.folds, opts.seed);
  const candidates: Record<string, number> = {};
  const predictions = new Map<Algorithm, RankedReason[]>();
  for (const algorithm of ALGORITHMS) {
    const predicted = crossValidate(samples, foldOf, algorithm, opts);
    predictions.set(algorithm, predicted);
    candidates[algorithm] = round(
      accuracy(
        samples,
        predicted.map((p) => p.reason),
      ),
      4,
    );
  }
  const best = ALGORITHMS.reduce((a, b) => ((candidates[b] ?? 0) > (candidates[a] ?? 0) ? b : a));
  const fitted = fit(samples, best, opts);
  const cvTop = predictions.get(best) ?? [];
  const cvPredicted = cvTop.map((p) => p.reason);
  const trainTop = samples.map(
    (s) => rankReasons(fitted, s.features)[0] ?? { reason: '', probability: 0 },
  );
  const trainPredicted = trainTop.map((p) => p.reason);
  // The override threshold that cross-validates best; among equals, the most cautious.
  let overrideProbability = 1;
  let stackedCv = accuracy(samples, stack(samples, cvTop, 1));
  for (let step = 99; step >= 30; step -= 1) {
    const threshold = step / 100;
    const cv = accuracy(samples, stack(samples, cvTop, threshold));
    if (cv > stackedCv) [overrideProbability, stackedCv] = [threshold, cv];
  }
  const byReason: TrainingSummary['byReason'] = {};
  for (const [i, sample] of samples.entries()) {
    const row = (byReason[sample.reason] ??= { n: 0, cv: 0, train: 0 });
    row.n += 1;
    if (cvPredicted[i] === sample.reason) row.cv += 1;
    if (trainPredicted[i] === sample.reason) row.train += 1;
  }
  const training: TrainingSummary = {
    samples: samples.length,
    messages: new Set(samples.map((s) => s.group)).size,
    features: Object.keys(fitted.weights).length,
    minCount: opts.minCount,
    l2: opts.l2,
    folds: opts.folds,
    seed: opts.seed,
    crossValidatedAccuracy: candidates[best] ?? 0,
    trainingAccuracy: round(accuracy(samples, trainPredicted), 4),
    byReason: Object.fromEntries(Object.entries(byReason).sort(([a], [b]) => a.localeCompare(b))),
    candidates,
    stacked: {
      rules: round(
        accuracy(
          samples,
          samples.map((s) => s.rule),
        ),
        4,
      ),
      cv: round(stackedCv, 4),
      train: round(accuracy(samples, stack(samples, trainTop, overrideProbability)), 4),
    },
  };
  return { ...fitted, overrideProbability, training };
}

/** The rules' reason, overruled where the model is at least `threshold` sure of another. */
function stack(
  samples: readonly LabelledSample[],
  top: readonly RankedReason[],
  threshold: number,
): string[] {
  return samples.map((s, i) => {
    const model = top[i];
    return model !== undefined && model.probability >= threshold ? model.reason : s.rule;
  });
}

/** The fold of each sample: groups shuffled with a seeded PRNG, dealt round-robin. */
export function assignFolds(samples: readonly LabelledSample[], folds: number, seed: number) {
  const groups = [...new Set(samples.map((s) => s.group))];
  const random = mulberry32(seed);
  for (let i = groups.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [groups[i], groups[j]] = [groups[j]!, groups[i]!];
  }
  const fold = new Map(groups.map((group, i) => [group, i % folds]));
  return samples.map((s) => fold.get(s.group) ?? 0);
}

function crossValidate(
  samples: readonly LabelledSample[],
  foldOf: readonly number[],
  algorithm: Algorithm,
  opts: TrainingOptions,
): RankedReason[] {
  const predicted: RankedReason[] = samples.map(() => ({ reason: '', probability: 0 }));
  for (let fold = 0; fold < opts.folds; fold += 1) {
    const train = samples.filter((_, i) => foldOf[i] !== fold);
    if (train.length === 0 || train.length === samples.length) continue;
    const model = fit(train, algorithm, opts);
    for (const [i, sample] of samples.entries()) {
      if (foldOf[i] !== fold) continue;
      predicted[i] = rankReasons(model, sample.features)[0] ?? { reason: '', probability: 0 };
    }
  }
  return predicted;
}

function fit(
  samples: readonly LabelledSample[],
  algorithm: Algorithm,
  opts: TrainingOptions,
): Scorer {
  const reasons = [...new Set(samples.map((s) => s.reason))].sort();
  const vocabulary = buildVocabulary(samples, opts.minCount);
  const index = new Map(vocabulary.map((feature, i) => [feature, i]));
  const rows = samples.map((s) => ({
    x: s.features.flatMap((f) => (index.has(f) ? [index.get(f)!] : [])),
    y: reasons.indexOf(s.reason),
  }));
  const { weights, bias, temperature } =
    algorithm === 'logistic-regression'
      ? fitLogistic(rows, reasons.length, vocabulary.length, opts)
      : fitComplementNaiveBayes(rows, reasons.length, vocabulary.length, opts);
  const sparse: ReasonModel['weights'] = {};
  for (const [f, feature] of vocabulary.entries()) {
    // Adding one constant to a feature's weight in every reason leaves the softmax unchanged:
    // centring lets more of them round to zero.
    const column = weights.map((row) => row[f] ?? 0);
    const mean = column.reduce((sum, w) => sum + w, 0) / column.length;
    const kept = column
      .map((w, c): [number, number] => [c, round(w - mean, DECIMALS)])
      .filter(([, w]) => Math.abs(w) >= PRUNE);
    if (kept.length > 0) sparse[feature] = kept;
  }
  return {
    version: 1,
    algorithm,
    reasons,
    bias: bias.map((b) => round(b, DECIMALS)),
    weights: sparse,
    temperature,
  };
}

interface Row {
  x: number[];
  y: number;
}

interface Fitted {
  weights: number[][];
  bias: number[];
  temperature: number;
}

/**
 * Softmax regression: full-batch gradient descent with heavy-ball momentum on the mean
 * cross-entropy plus L2 (the bias is not penalized). Convex, so the seed does not matter;
 * full batches in a fixed order make it reproducible to the last bit.
 */
function fitLogistic(
  rows: readonly Row[],
  classes: number,
  features: number,
  opts: TrainingOptions,
): Fitted {
  const weights = Array.from({ length: classes }, () => new Float64Array(features));
  const bias = new Float64Array(classes);
  const rate = 1;
  const momentum = 0.9;
  const velocityW = Array.from({ length: classes }, () => new Float64Array(features));
  const velocityB = new Float64Array(classes);
  const scores = new Float64Array(classes);
  for (let epoch = 0; epoch < opts.epochs; epoch += 1) {
    const gradW = Array.from({ length: classes }, () => new Float64Array(features));
    const gradB = new Float64Array(classes);
    for (const row of rows) {
      let max = -Infinity;
      for (let c = 0; c < classes; c += 1) {
        let s = bias[c]!;
        for (const f of row.x) s += weights[c]![f]!;
        scores[c] = s;
        if (s > max) max = s;
      }
      let total = 0;
      for (let c = 0; c < classes; c += 1) {
        scores[c] = Math.exp(scores[c]! - max);
        total += scores[c]!;
      }
      for (let c = 0; c < classes; c += 1) {
        const g = scores[c]! / total - (c === row.y ? 1 : 0);
        gradB[c]! += g;
        const gw = gradW[c]!;
        for (const f of row.x) gw[f]! += g;
      }
    }
    const n = rows.length;
    for (let c = 0; c < classes; c += 1) {
      const w = weights[c]!;
      const gw = gradW[c]!;
      const vw = velocityW[c]!;
      for (let f = 0; f < features; f += 1) {
        vw[f] = momentum * vw[f]! - rate * (gw[f]! / n + opts.l2 * w[f]!);
        w[f]! += vw[f]!;
      }
      velocityB[c] = momentum * velocityB[c]! - rate * (gradB[c]! / n);
      bias[c]! += velocityB[c]!;
    }
  }
  return { weights: weights.map((w) => [...w]), bias: [...bias], temperature: 1 };
}

/**
 * Complement naive Bayes (Rennie et al. 2003): each reason is scored by how unlike the other
 * reasons' samples the features are, with weight normalization, which copes with the
 * corpus's skew (69 userunknown, one systemfull). Its scores are not log-odds: the softmax
 * over them is a ranking, not calibrated probabilities.
 */
function fitComplementNaiveBayes(
  rows: readonly Row[],
  classes: number,
  features: number,
  opts: TrainingOptions,
): Fitted {
  const counts = Array.from({ length: classes }, () => new Float64Array(features));
  for (const row of rows) for (const f of row.x) counts[row.y]![f]! += 1;
  const totalPerFeature = new Float64Array(features);
  for (const row of counts) for (let f = 0; f < features; f += 1) totalPerFeature[f]! += row[f]!;
  const grand = totalPerFeature.reduce((sum, v) => sum + v, 0);
  const weights = counts.map((own) => {
    const ownTotal = own.reduce((sum, v) => sum + v, 0);
    const denominator = grand - ownTotal + opts.alpha * features;
    const logs = [...own].map((v, f) =>
      Math.log((totalPerFeature[f]! - v + opts.alpha) / denominator),
    );
    // Normalized by the mean rather than the sum of |log θ|: the same ranking, but weights
    // of order 1 survive rounding.
    const norm = logs.reduce((sum, v) => sum + Math.abs(v), 0) / features || 1;
    return logs.map((v) => -v / norm);
  });
  return { weights, bias: new Array<number>(classes).fill(0), temperature: 1 };
}

function buildVocabulary(samples: readonly LabelledSample[], minCount: number): string[] {
  const counts = new Map<string, number>();
  for (const s of samples) for (const f of s.features) counts.set(f, (counts.get(f) ?? 0) + 1);
  return [...counts]
    .filter(([, n]) => n >= minCount)
    .map(([f]) => f)
    .sort();
}

function accuracy(samples: readonly LabelledSample[], predicted: readonly string[]): number {
  if (samples.length === 0) return 0;
  return samples.filter((s, i) => predicted[i] === s.reason).length / samples.length;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** A small seeded PRNG: the folds must not change between runs or machines. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
