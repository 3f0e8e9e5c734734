import type { MessageData, MessageId } from '@relais/domain';

/** The delivery events that move a message: what the relay reports per attempt. */
export type DeliveryEventType =
  'delivery.delivered' | 'delivery.deferred' | 'delivery.bounced' | 'delivery.expired';

/** The counters kept per campaign (`campaign_counters.counter`). */
export const COUNTERS = [
  'delivered',
  'bounced_hard',
  'bounced_soft',
  'deferred',
  'expired',
] as const;

/** One of the counters above. */
export type Counter = (typeof COUNTERS)[number];

/** Message states a delivery event may leave: sent to the relay and not final yet. */
export const IN_FLIGHT_AFTER_DISPATCH = ['queued', 'sent', 'deferred'] as const;

/** The state a delivery event moves a message to, and what it counts. */
export interface Outcome {
  messageId: MessageId;
  /** The new state of the message. */
  state: 'delivered' | 'deferred' | 'bounced' | 'expired';
  /** Final states also stamp `final_at`; a deferral leaves it empty. */
  final: boolean;
  /**
   * States the message may be in for the move to happen. Never a final one: events arrive
   * out of order and more than once, and a late deferral must not undo a delivery.
   */
  from: readonly string[];
  /** What `messages.last_reason` becomes: the reply or failure in words, when there is one. */
  reason: string | null;
  /** Counted only when the message actually moved: a duplicate counts nothing. */
  countOnTransition: Counter | null;
  /** Counted for every event, whether the state moved or not (every deferral is an attempt). */
  countAlways: Counter | null;
}

/** A delivery event as its type and validated data. */
export type DeliveryEvent = {
  [T in DeliveryEventType]: { type: T; data: MessageData<T> };
}[DeliveryEventType];

/** The outcome a delivery event describes; the exhaustive switch keeps it complete. */
export function outcomeOf(event: DeliveryEvent): Outcome {
  const base = { messageId: event.data.messageId, from: IN_FLIGHT_AFTER_DISPATCH };
  const replyText = event.data.reply?.text ?? null;
  switch (event.type) {
    case 'delivery.delivered':
      return {
        ...base,
        state: 'delivered',
        final: true,
        reason: replyText,
        countOnTransition: 'delivered',
        countAlways: null,
      };
    case 'delivery.deferred':
      return {
        ...base,
        state: 'deferred',
        final: false,
        reason: event.data.reason,
        countOnTransition: null,
        countAlways: 'deferred',
      };
    case 'delivery.bounced':
      return {
        ...base,
        state: 'bounced',
        final: true,
        reason: event.data.reason,
        countOnTransition: event.data.hard ? 'bounced_hard' : 'bounced_soft',
        countAlways: null,
      };
    case 'delivery.expired':
      return {
        ...base,
        state: 'expired',
        final: true,
        reason: replyText,
        countOnTransition: 'expired',
        countAlways: null,
      };
    default:
      return event satisfies never;
  }
}

/**
 * The counter shard of a message: FNV-1a over its id, so every replica picks the same shard
 * for the same message and a campaign's events spread evenly over `shards` rows.
 */
export function counterShard(messageId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < messageId.length; i++) {
    hash ^= messageId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}
