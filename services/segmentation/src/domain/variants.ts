import { RelaisError } from '@relais/domain';

/**
 * A/B assignment splits recipients by a hash bucket in [0, BUCKETS): 10,000 buckets give
 * weights their full precision (numeric(5,2) percent = whole basis points).
 */
export const VARIANT_BUCKETS = 10_000;

/** A campaign variant as stored: `weight` is a share in percent, possibly with two decimals. */
export interface VariantWeight {
  name: string;
  /** Percent, as a number or as the decimal text PostgreSQL returns for `numeric`. */
  weight: number | string;
}

/** A variant and the exclusive upper bound of its bucket range. */
export interface VariantThreshold {
  name: string;
  /** Buckets below this (and at or above the previous variant's bound) get this variant. */
  upTo: number;
}

/**
 * Cumulative bucket thresholds, in the variants' order (their `position`), so a bucket maps
 * to the first variant whose `upTo` exceeds it. Weights must add up to exactly 100 %: a
 * campaign that does not is a broken invariant of the campaign API, not worth retrying.
 */
export function variantThresholds(variants: readonly VariantWeight[]): VariantThreshold[] {
  if (variants.length === 0) {
    throw new RelaisError('VALIDATION_FAILED', 'a campaign needs at least one variant');
  }
  let upTo = 0;
  const thresholds = variants.map(({ name, weight }) => {
    const basisPoints = Math.round(Number(weight) * 100);
    if (!Number.isFinite(basisPoints) || basisPoints <= 0) {
      throw new RelaisError('VALIDATION_FAILED', 'a variant weight must be a positive percent', {
        details: { variant: name, weight: String(weight) },
      });
    }
    upTo += basisPoints;
    return { name, upTo };
  });
  if (upTo !== VARIANT_BUCKETS) {
    throw new RelaisError('VALIDATION_FAILED', 'variant weights must add up to 100 %', {
      details: { totalPercent: upTo / 100 },
    });
  }
  return thresholds;
}

/** The variant of a bucket: what the resolution SQL computes, in TypeScript for tests. */
export function variantOfBucket(thresholds: readonly VariantThreshold[], bucket: number): string {
  const match = thresholds.find(({ upTo }) => bucket < upTo) ?? thresholds.at(-1);
  if (match === undefined) {
    throw new RelaisError('INTERNAL', 'no variant thresholds to assign from');
  }
  return match.name;
}
