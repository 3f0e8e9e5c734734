/**
 * Every `event.action` this service logs, with when it is written. Bounces and suppressions
 * themselves are rows and `suppression.added` events, not log lines; addresses are never
 * logged.
 */
export const BOUNCE_LOG_EVENTS = {
  'bounce.consumer_started': 'The processor consumes its queue (name in relais.queue).',
  'bounce.message_unknown':
    'A bounce names a message this tenant has no row for (relais.reason says why); acked, nothing written.',
  'bounce.recorded':
    'A bounce row was written (relais.reason, relais.hard); relais.suppressed when it suppressed the address.',
  'bounce.duplicate_ignored':
    'The bounce of this event id was recorded before (a redelivery); nothing written.',
} as const;

/** One of the codes above. */
export type BounceLogEvent = keyof typeof BOUNCE_LOG_EVENTS;
