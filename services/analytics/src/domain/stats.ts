import { COUNTERS, type Counter } from './outcomes';

/** Every state a message row can be in (the CHECK constraint of `messages.state`). */
export const MESSAGE_STATES = [
  'pending',
  'queued',
  'sent',
  'delivered',
  'deferred',
  'bounced',
  'failed',
  'expired',
  'suppressed',
  'cancelled',
] as const;

/** One of the states above. */
export type MessageState = (typeof MESSAGE_STATES)[number];

/**
 * States of recipients that were never handed to a relay: excluded at resolution, cancelled
 * before sending, or refused by the dispatcher. Rates leave them out.
 */
const NEVER_SENT: readonly MessageState[] = ['suppressed', 'cancelled', 'failed'];

/** What a campaign's stats are computed from: raw counts as the store returns them. */
export interface StatsInput {
  stateCounts: ReadonlyArray<{ state: string; count: number }>;
  counterSums: ReadonlyArray<{ counter: string; value: number }>;
}

/** The figures of a campaign's stats. */
export interface CampaignFigures {
  /** Message rows of the campaign, excluded ones included. */
  recipients: number;
  states: Record<MessageState, number>;
  counters: Record<Counter, number>;
  /** Shares of the recipients that were sent (0 when none was): 0.9731 is 97.31 %. */
  rates: { delivered: number; bounced: number };
}

/** Rates are rounded to four decimals: a basis point is finer than anyone reads them. */
function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}

/** Fills every state and counter (0 when absent) and derives the rates. */
export function campaignFigures(input: StatsInput): CampaignFigures {
  const states = Object.fromEntries(MESSAGE_STATES.map((s) => [s, 0])) as Record<
    MessageState,
    number
  >;
  for (const { state, count } of input.stateCounts) {
    if (state in states) states[state as MessageState] += count;
  }
  const counters = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;
  for (const { counter, value } of input.counterSums) {
    if (counter in counters) counters[counter as Counter] += value;
  }
  const recipients = MESSAGE_STATES.reduce((sum, state) => sum + states[state], 0);
  const sent = recipients - NEVER_SENT.reduce((sum, state) => sum + states[state], 0);
  return {
    recipients,
    states,
    counters,
    rates: { delivered: ratio(states.delivered, sent), bounced: ratio(states.bounced, sent) },
  };
}
