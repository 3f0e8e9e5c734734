import { readFileSync } from 'node:fs';
import { extractFeatures, type ModelInput } from './features';
import { rankReasons, type RankedReason, type ReasonModel } from './model';

export { extractFeatures, modelInputOf, normalizeDiagnostic, type ModelInput } from './features';
export { rankReasons, type RankedReason, type ReasonModel, type TrainingSummary } from './model';

/** The model's verdict on one recipient. */
export interface ReasonPrediction {
  /** The most likely Sisimai reason (some, like `mailererror`, are outside BOUNCE_REASONS). */
  reason: string;
  probability: number;
  /** Every reason the model knows, most likely first; probabilities sum to 1. */
  ranked: RankedReason[];
}

const MODEL_FILE = new URL('../../data/reason-model.json', import.meta.url);

let loaded: ReasonModel | undefined;

/**
 * The shipped model, read once on first use (not at import: the rules alone need no file).
 * Trained by `scripts/train-reason-model.ts`; throws if the data file is missing or is not a
 * model of this version, which is a packaging error, not a property of the input.
 */
export function loadReasonModel(): ReasonModel {
  if (loaded !== undefined) return loaded;
  const parsed = JSON.parse(readFileSync(MODEL_FILE, 'utf8')) as Partial<ReasonModel>;
  if (parsed.version !== 1 || !Array.isArray(parsed.reasons) || !Array.isArray(parsed.bias)) {
    throw new Error(`not a version 1 reason model: ${MODEL_FILE.pathname}`);
  }
  loaded = parsed as ReasonModel;
  return loaded;
}

/**
 * The statistical second opinion on a bounced recipient: the reason a model trained on the
 * labelled corpus finds most likely from the diagnostic's words, the status, the reply code
 * and the command. Pure apart from the one-time read of the data file.
 */
export function predictReason(input: ModelInput): ReasonPrediction {
  const ranked = rankReasons(loadReasonModel(), extractFeatures(input));
  const best = ranked[0] ?? { reason: 'undefined', probability: 1 };
  return { reason: best.reason, probability: best.probability, ranked };
}
