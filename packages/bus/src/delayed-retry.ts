import { RelaisError, type ErrorCode, type RelaisErrorOptions } from '@relais/domain';

/**
 * A retryable failure that names its own delay instead of taking the next tier of the bus's
 * schedule. The broker only has a few fixed delay tiers (TTL queues); a longer delay rides
 * the largest tier that fits and hops again on arrival until it is due, without running the
 * handler in between (see `delayPlan`).
 */
export class DelayedRetry extends RelaisError {
  /** Wait at least this long before the handler sees the message again. */
  readonly delayMs: number;
  /**
   * False: the handler did no work on the message (e.g. it was postponed before any delivery
   * attempt), so the retry keeps the attempt number and never counts toward `maxAttempts`.
   */
  readonly consumesAttempt: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: RelaisErrorOptions & { delayMs: number; consumesAttempt?: boolean },
  ) {
    super(code, message, { ...options, retryable: true });
    this.name = 'DelayedRetry';
    this.delayMs = Math.max(0, Math.round(options.delayMs));
    this.consumesAttempt = options.consumesAttempt ?? true;
  }
}

/** Which delay tier a copy rides and when it is due. */
export interface DelayPlan {
  tierMs: number;
  /** Epoch ms before which the copy hops again instead of reaching the handler; absent: due on arrival. */
  dueAtMs?: number;
}

/**
 * The tier for a wait of `remainingMs`: the largest tier not longer than it (so the copy is
 * never late by more than one hop's rounding), or the shortest tier when every tier is
 * longer. A wait that the chosen tier does not cover carries its due time along.
 */
export function delayPlan(
  tiersMs: readonly number[],
  remainingMs: number,
  nowMs: number,
): DelayPlan {
  let fitting: number | undefined;
  let shortest = Infinity;
  for (const tier of tiersMs) {
    if (tier < shortest) shortest = tier;
    if (tier <= remainingMs && (fitting === undefined || tier > fitting)) fitting = tier;
  }
  const tierMs = fitting ?? (Number.isFinite(shortest) ? shortest : 0);
  return tierMs >= remainingMs ? { tierMs } : { tierMs, dueAtMs: nowMs + remainingMs };
}
