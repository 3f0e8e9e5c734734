import { providerOf } from '@relais/domain';

/**
 * Slices of campaigns paused by a circuit breaker (or a user): the campaign's mail to one
 * mailbox provider, through one IP pool, or both. The relay holds their messages — back to
 * the bus without an attempt — until the slice is resumed. A pause of a whole campaign is
 * not held here: the dispatch loop stops publishing it.
 */

/** One pause in force; '' is "any". */
export interface PausedSlice {
  campaignId: string;
  provider: string;
  pool: string;
}

/** The pauses in force, indexed by campaign for the per-message check. */
export type PauseIndex = ReadonlyMap<string, readonly PausedSlice[]>;

/** Indexes pauses by campaign (lowercase ids); whole-campaign pauses are left out. */
export function indexPauses(pauses: readonly PausedSlice[]): PauseIndex {
  const index = new Map<string, PausedSlice[]>();
  for (const pause of pauses) {
    if (pause.provider === '' && pause.pool === '') continue;
    const key = pause.campaignId.toLowerCase();
    const list = index.get(key);
    if (list === undefined) index.set(key, [pause]);
    else list.push(pause);
  }
  return index;
}

/**
 * The pause that holds a message, if any: one of its campaign whose provider (the same
 * `providerOf` analytics counts by) and pool both match, '' matching anything.
 */
export function holdingPause(
  index: PauseIndex,
  message: { campaignId?: string | undefined; recipientDomain: string; pool: string },
): PausedSlice | undefined {
  if (message.campaignId === undefined) return undefined;
  const pauses = index.get(message.campaignId.toLowerCase());
  if (pauses === undefined) return undefined;
  const provider = providerOf(message.recipientDomain);
  return pauses.find(
    (pause) =>
      (pause.provider === '' || pause.provider === provider) &&
      (pause.pool === '' || pause.pool === message.pool),
  );
}
