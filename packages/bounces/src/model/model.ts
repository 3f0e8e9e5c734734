/**
 * The reason model as shipped in `data/reason-model.json`: a linear scorer per reason over
 * the sparse binary features of `extractFeatures`, turned into probabilities with a softmax.
 * Both trainers (logistic regression, complement naive Bayes) produce this shape, so
 * prediction does not care which one won the cross-validation.
 */
export interface ReasonModel {
  /** Bumped when the feature extraction or the file layout changes. */
  version: 1;
  algorithm: 'logistic-regression' | 'complement-naive-bayes';
  /** Sisimai reasons, in the order of `bias` and of each weight row. */
  reasons: string[];
  bias: number[];
  /** Feature → [reason index, weight] pairs; weights too small to matter are left out. */
  weights: Record<string, [number, number][]>;
  /** Multiplies every score before the softmax (complement NB scores are not log-odds). */
  temperature: number;
  /**
   * How sure the model must be to overrule the rules' reason (its input includes that
   * reason); chosen by the training script as the cross-validated best.
   */
  overrideProbability: number;
  /** How the model was trained and how it cross-validated; documentation only. */
  training: TrainingSummary;
}

/** What the training script measured, kept in the data file beside the weights. */
export interface TrainingSummary {
  samples: number;
  messages: number;
  features: number;
  minCount: number;
  l2: number;
  folds: number;
  seed: number;
  crossValidatedAccuracy: number;
  trainingAccuracy: number;
  /** Per reason: samples, right under cross-validation, right on the training set. */
  byReason: Record<string, { n: number; cv: number; train: number }>;
  /** Cross-validated accuracy of each algorithm tried. */
  candidates: Record<string, number>;
  /**
   * Rules alone, and rules overruled by the model where it is at least `overrideProbability`
   * sure: cross-validated (the model refitted without the held-out messages) and on the
   * training set. The rules are fixed; they were written while reading this corpus.
   */
  stacked: { rules: number; cv: number; train: number };
}

/** One reason and how likely the model finds it. */
export interface RankedReason {
  reason: string;
  probability: number;
}

/** Every reason of the model, most likely first (ties in model order), probabilities summing to 1. */
export function rankReasons(
  model: Omit<ReasonModel, 'training' | 'overrideProbability'>,
  features: readonly string[],
): RankedReason[] {
  const scores = [...model.bias];
  for (const feature of features) {
    for (const [index, weight] of model.weights[feature] ?? []) {
      scores[index] = (scores[index] ?? 0) + weight;
    }
  }
  const scaled = scores.map((score) => score * model.temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((score) => Math.exp(score - max));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return model.reasons
    .map((reason, i) => ({ reason, probability: (exps[i] ?? 0) / total, i }))
    .sort((a, b) => b.probability - a.probability || a.i - b.i)
    .map(({ reason, probability }) => ({ reason, probability }));
}
